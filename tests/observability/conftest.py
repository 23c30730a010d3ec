"""A real Prometheus scraping the shared running stack every second, for the live observability tests."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from subprocess import Popen

import pytest

from infra.stack.embedded_broker import free_port
from infra.stack.prometheus_local import (
    prometheus_binary,
    start_local_prometheus,
    stop_local_prometheus,
    wait_until_ready,
)

from tests.support import skip_or_fail
from tests.support.ports import PortTaken, lost_a_port_race, retry_on_port_collision

SCRAPE_INTERVAL = "1s"


class PrometheusApi:
    """The few calls of Prometheus' HTTP API the tests make."""

    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}"

    def get(self, path: str, **params) -> dict:
        query = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:  # 400/422: a query that does not parse or evaluate
            return json.loads(error.read())

    def query(self, expr: str) -> dict:
        """``{"status", "data": {"resultType", "result"}}`` or ``{"status": "error", "error"}``."""
        return self.get("/api/v1/query", query=expr)

    def targets(self) -> list[dict]:
        return self.get("/api/v1/targets", state="active")["data"]["activeTargets"]

    def alerts(self) -> list[dict]:
        return self.get("/api/v1/alerts")["data"]["alerts"]


def stack_targets(stack) -> dict[str, list[str]]:
    """The stack's services under the job names of infra/prometheus/prometheus.yml."""
    return stack.prometheus_targets()


def started_prometheus(targets: dict[str, list[str]], workdir: Path, scrape_interval: str) -> tuple[Popen, int]:
    """A ready local Prometheus on a free port; started again on another one if it lost that port."""

    def attempt(number: int) -> tuple[Popen, int]:
        port, attempt_dir = free_port(), workdir / f"attempt-{number}"
        process = start_local_prometheus(targets, port, attempt_dir, scrape_interval=scrape_interval)
        if wait_until_ready(port, timeout=30, process=process):
            return process, port
        stop_local_prometheus(process)
        log = (attempt_dir / "prometheus.log").read_text(errors="replace")[-3000:]
        if lost_a_port_race(log):
            raise PortTaken(log)
        pytest.fail(f"Prometheus did not become ready:\n{log}", pytrace=False)

    return retry_on_port_collision(attempt)


@pytest.fixture(scope="module")
def prometheus(running_stack, tmp_path_factory):
    if prometheus_binary() is None:
        skip_or_fail("prometheus not installed (apt-get install prometheus)")
    workdir = tmp_path_factory.mktemp("prometheus")
    process, port = started_prometheus(stack_targets(running_stack), workdir, SCRAPE_INTERVAL)
    try:
        yield PrometheusApi(port)
    finally:
        stop_local_prometheus(process)
