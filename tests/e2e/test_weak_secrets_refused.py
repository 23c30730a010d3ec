"""Every service, started as a real process with a placeholder, development or short secret, exits
at once with one line on stderr naming the variable (and never the value)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from infra.runtime.settings import DEV_AUDIT_HMAC_KEY, DEV_CARD_DATA_KEYS, DEV_PANEL_SECRET_KEY, DEV_SECRET_PEPPER
from infra.stack.embedded_broker import free_port

from tests.support.secrets import STRONG_SECRETS

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
PLACEHOLDER_KEYS = "change-me:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def gunicorn(app: str) -> list[str]:
    conf = app.split(":")[0] + ".gunicorn_conf"
    return [str(BIN / "gunicorn"), "-c", f"python:{conf}", app, "--bind", "127.0.0.1:{port}"]


API = gunicorn("gateway_api:create_app()")
PANEL = gunicorn("panel:create_app()")
PROCESSOR = [sys.executable, "-m", "processor"]
RESULTS = [sys.executable, "-m", "gateway_api.results"]
CLI = [sys.executable, "-m", "gateway_api", "accounts", "create", "--name", "Shop"]
PURGE = [sys.executable, "-m", "gateway_api", "idempotency", "purge"]


CASES = [
    ("api", API, "GATEWAY_ADMIN_TOKEN", "change-me-admin-token"),
    ("api", API, "GATEWAY_SECRET_PEPPER", DEV_SECRET_PEPPER),
    ("api", API, "CARD_DATA_KEYS", PLACEHOLDER_KEYS),
    ("api", API, "DATABASE_URL", "mysql+pymysql://gateway:change-me-gateway@127.0.0.1:1/gateway"),
    ("processor", PROCESSOR, "CARD_DATA_KEYS", DEV_CARD_DATA_KEYS),
    ("processor", PROCESSOR, "CARD_DATA_KEYS", "k1:c2hvcnQ="),  # 5 bytes
    ("processor", PROCESSOR, "DATABASE_URL", "mysql+pymysql://processor:change-me-processor@127.0.0.1:1/processor"),
    ("results", RESULTS, "DATABASE_URL", "mysql+pymysql://gateway:change-me-gateway@127.0.0.1:1/gateway"),
    ("results", RESULTS, "KAFKA_SASL_PASSWORD", "change-me-kafka"),
    ("api", API, "AUDIT_HMAC_KEY", "change-me-audit-hmac-key"),
    ("results", RESULTS, "AUDIT_HMAC_KEY", DEV_AUDIT_HMAC_KEY),
    ("cli", CLI, "AUDIT_HMAC_KEY", "only-31-characters-long-0123456"),
    ("panel", PANEL, "PANEL_SECRET_KEY", "change-me-panel-secret-key"),
    ("panel", PANEL, "PANEL_SECRET_KEY", DEV_PANEL_SECRET_KEY),
    ("panel", PANEL, "PANEL_SECRET_KEY", "only-31-characters-long-0123456"),
    ("cli", CLI, "GATEWAY_ADMIN_TOKEN", "change-me-admin-token"),
    ("cli", PURGE, "CARD_DATA_KEYS", PLACEHOLDER_KEYS),
]


def environment(tmp_path: Path, variable: str, value: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ALLOW_DEVELOPMENT_SECRETS"}
    return (
        env
        | STRONG_SECRETS
        | {
            # Nothing to connect to: a process that wrongly started would only hang, and time out here.
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "METRICS_PORT": "0",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
            "KAFKA_SASL_MECHANISM": "",
        }
        | ({"KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"} if variable == "KAFKA_SASL_PASSWORD" else {})
        | {variable: value}
    )


@pytest.mark.parametrize(
    "service, argv, variable, value", CASES, ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(CASES)]
)
def test_a_weak_secret_stops_the_service_with_one_line_naming_the_variable(tmp_path, service, argv, variable, value):
    try:
        argv = [part.format(port=free_port()) if "{port}" in part else part for part in argv]
        done = subprocess.run(
            argv, env=environment(tmp_path, variable, value), capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{service} started with a weak {variable} instead of refusing it")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("configuration error: ") and variable in lines[0], done.stderr
    secret_part = value.split("@")[0].rsplit(":", 1)[-1] if "://" in value else value
    assert secret_part not in done.stderr + done.stdout


def test_the_same_service_starts_with_real_secrets(tmp_path):
    """The control: with every secret strong, the processor gets past its settings (and then waits
    for a broker that is not there, until stopped). Read until it says so, not for a fixed while:
    on a loaded machine its imports alone took longer than 5 s, and it was stopped before a line."""
    process = subprocess.Popen(
        PROCESSOR,
        env=environment(tmp_path, "LOG_LEVEL", "INFO"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any("processor started" in line for line in lines) and process.poll() is None:
            assert time.monotonic() < deadline, f"no 'processor started' within 60 s: {''.join(lines)}"
            time.sleep(0.1)
        still_running = process.poll() is None
    finally:
        process.terminate()
        process.wait(15)
        reader.join(15)
        process.stdout.close()
    output = "".join(lines)
    assert still_running and "configuration error" not in output and "processor started" in output, output
