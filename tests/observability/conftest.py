"""A real Prometheus scraping the shared running stack every second, for the live observability tests."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from infra.embedded_broker import free_port
from infra.prometheus_local import prometheus_binary, start_local_prometheus, stop_local_prometheus, wait_until_ready
from tests.support import skip_or_fail

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


@pytest.fixture(scope="module")
def prometheus(running_stack, tmp_path_factory):
    if prometheus_binary() is None:
        skip_or_fail("prometheus not installed (apt-get install prometheus)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("prometheus")
    process = start_local_prometheus(stack_targets(running_stack), port, workdir, scrape_interval=SCRAPE_INTERVAL)
    try:
        if not wait_until_ready(port, timeout=30, process=process):
            log = (workdir / "prometheus.log").read_text(errors="replace")[-3000:]
            pytest.fail(f"Prometheus did not become ready:\n{log}", pytrace=False)
        yield PrometheusApi(port)
    finally:
        stop_local_prometheus(process)
