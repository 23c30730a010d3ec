"""A local Prometheus (Debian's ``prometheus`` binary) scraping the stack started by ``make run`` or a test.

The jobs are named as in infra/prometheus/prometheus.yml (api, processor, results, panel, webhooks,
prometheus), so the alert rules and the Grafana dashboards work unchanged against it. Usage
(infra/stack/stack.py)::

    process = start_local_prometheus(
        {"api": ["127.0.0.1:9100"], "processor": ["127.0.0.1:9101"], "results": ["127.0.0.1:9102"],
         "panel": ["127.0.0.1:9104"], "webhooks": ["127.0.0.1:9103"]},
        port=9090, workdir=Path("var/prometheus"))
    if process and wait_until_ready(9090, process=process):
        print(f"Prometheus: {targets_page(9090)}")
    ...
    stop_local_prometheus(process)
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from infra.stack import reaper

ALERTS_FILE = Path(__file__).resolve().parents[1] / "prometheus" / "alerts.yml"  # infra/prometheus/
INSTALL_HINT = (
    "Prometheus is not installed, so the stack runs without it. To see the metrics, alerts and "
    "targets locally: `sudo apt-get install prometheus` (Debian/Ubuntu; then `sudo systemctl disable "
    "--now prometheus` if you only want the one started here), or put a `prometheus` binary on PATH."
)

log = logging.getLogger(__name__)


def prometheus_binary(name: str = "prometheus") -> str | None:
    """Debian's /usr/bin/<name> (prometheus, promtool), else one on PATH, else None."""
    debian = Path("/usr/bin") / name
    if debian.is_file():
        return str(debian)
    return shutil.which(name)


def local_config(targets: dict[str, list[str]], port: int, scrape_interval: str = "2s") -> dict:
    """A Prometheus configuration scraping ``job -> [host:port, ...]`` plus Prometheus itself."""
    jobs = {"prometheus": [f"127.0.0.1:{port}"], **targets}
    return {
        "global": {
            "scrape_interval": scrape_interval,
            "evaluation_interval": scrape_interval,
            "scrape_timeout": scrape_interval,
        },
        "rule_files": [str(ALERTS_FILE)],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": list(addresses)}]} for job, addresses in jobs.items()
        ],
    }


def write_config(targets: dict[str, list[str]], port: int, workdir: Path, scrape_interval: str = "2s") -> Path:
    """Write prometheus.yml into ``workdir`` (JSON is valid YAML: no YAML library needed at run time)."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "prometheus.yml"
    path.write_text(json.dumps(local_config(targets, port, scrape_interval), indent=2) + "\n")
    return path


def start_local_prometheus(
    targets: dict[str, list[str]], port: int, workdir: Path, scrape_interval: str = "2s"
) -> subprocess.Popen | None:
    """Start Prometheus on 127.0.0.1:``port`` with its data and log in ``workdir``; None if not installed."""
    binary = prometheus_binary()
    if binary is None:
        log.warning(INSTALL_HINT)
        return None
    workdir = Path(workdir)
    config = write_config(targets, port, workdir, scrape_interval)
    command = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'data'}",
        "--storage.tsdb.retention.time=1d",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",
    ]
    with open(workdir / "prometheus.log", "ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    reaper.watch(process)  # stopped even if the stack's process is killed outright
    return process


def wait_until_ready(port: int, timeout: float = 30.0, process: subprocess.Popen | None = None) -> bool:
    """True once /-/ready answers 200; False on timeout or if ``process`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    return False


def targets_page(port: int) -> str:
    """The targets page: /targets upstream, /classic/targets in Debian's build (no React UI)."""
    base = f"http://127.0.0.1:{port}"
    try:
        with urllib.request.urlopen(f"{base}/targets", timeout=2):
            return f"{base}/targets"
    except (urllib.error.URLError, OSError):
        return f"{base}/classic/targets"


def stop_local_prometheus(process: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """SIGTERM (Prometheus flushes its head block), then SIGKILL if it does not exit in time."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)
