"""infra.stack.prometheus_local: the Prometheus `make run` starts next to the stack."""

from __future__ import annotations

import logging
import urllib.request

import pytest

from infra.stack import prometheus_local

from tests.observability.conftest import PrometheusApi, started_prometheus
from tests.observability.queries import alert_rules
from tests.support import skip_or_fail, wait_until
from tests.support.ports import refusing_port


def test_without_prometheus_it_says_how_to_install_it(monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(prometheus_local, "prometheus_binary", lambda name="prometheus": None)
    with caplog.at_level(logging.WARNING, logger="infra.stack.prometheus_local"):
        assert prometheus_local.start_local_prometheus({"api": ["127.0.0.1:1"]}, 9090, tmp_path) is None
    assert "apt-get install prometheus" in caplog.text
    assert not (tmp_path / "prometheus.yml").exists()


@pytest.mark.prometheus
def test_starts_scrapes_loads_the_alerts_and_stops(tmp_path):
    if prometheus_local.prometheus_binary() is None:
        skip_or_fail("prometheus not installed (apt-get install prometheus)")
    with refusing_port() as down:  # an "api" that refuses every scrape
        process, port = started_prometheus({"api": [f"127.0.0.1:{down}"]}, tmp_path, "1s")
        try:
            api = PrometheusApi(port)
            health = lambda: {t["labels"]["job"]: t["health"] for t in api.targets() if t["health"] != "unknown"}
            assert wait_until(lambda: len(health()) == 2 and health(), 10, message="both targets scraped") == {
                "prometheus": "up",
                "api": "down",
            }
            loaded = {rule["name"] for group in api.get("/api/v1/rules")["data"]["groups"] for rule in group["rules"]}
            assert loaded == {rule["alert"] for rule in alert_rules()}
            with urllib.request.urlopen(prometheus_local.targets_page(port), timeout=5) as page:
                assert "api" in page.read().decode()
        finally:
            prometheus_local.stop_local_prometheus(process)
    assert process.returncode == 0
    assert any(path.is_dir() for path in tmp_path.glob("attempt-*/data"))
