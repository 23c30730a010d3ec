"""Prometheus config, alert rules and Grafana dashboards checked without a running stack."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from infra.stack.prometheus_local import prometheus_binary, write_config

from tests.observability import catalogue
from tests.observability.queries import (
    ALERT_TESTS,
    ALERTS,
    DASHBOARDS,
    ROOT,
    SCRAPE_CONFIG,
    alert_queries,
    alert_rules,
    dashboard_queries,
    load_dashboards,
    metric_names,
    panels,
    without_thresholds,
)
from tests.support import skip_or_fail

DATASOURCES = ROOT / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
PROVIDERS = ROOT / "grafana" / "provisioning" / "dashboards" / "dashboards.yml"
REQUIRED_ALERTS = {
    "GatewayApiHigh5xxRate",
    "TransactionRejectionRateSpike",
    "ProcessorConsumerLagGrowing",
    "ResultsConsumerLagGrowing",
    "NoTransactionDecisions",
    "DeadLetterQueueNotEmpty",
    "WebhookEndpointFailing",
    "WebhookBacklogGrowing",
}


def promtool(*args: str) -> subprocess.CompletedProcess:
    binary = prometheus_binary("promtool")
    if binary is None:
        skip_or_fail("promtool not installed (apt-get install prometheus)")
    result = subprocess.run([binary, *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def datasource_uid() -> str:
    (datasource,) = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    return datasource["uid"]


@pytest.mark.prometheus
def test_compose_scrape_config_is_valid():
    assert "SUCCESS" in promtool("check", "config", str(SCRAPE_CONFIG)).stdout


@pytest.mark.prometheus
def test_local_scrape_config_is_valid_and_has_the_compose_jobs(tmp_path):
    targets = {
        "api": ["127.0.0.1:1"],
        "processor": ["127.0.0.1:2", "127.0.0.1:3"],
        "results": ["127.0.0.1:4"],
        "panel": ["127.0.0.1:5"],
        "webhooks": ["127.0.0.1:6"],
    }
    config = write_config(targets, 9999, tmp_path)
    promtool("check", "config", str(config))
    jobs = lambda path: {job["job_name"] for job in yaml.safe_load(path.read_text())["scrape_configs"]}
    assert jobs(config) == jobs(SCRAPE_CONFIG) == {"prometheus", *targets}


@pytest.mark.prometheus
def test_alert_rules_are_valid():
    assert "SUCCESS" in promtool("check", "rules", str(ALERTS)).stdout


@pytest.mark.prometheus
def test_alert_rules_pass_their_unit_tests():
    promtool("test", "rules", str(ALERT_TESTS))


@pytest.mark.prometheus
def test_alert_rules_without_thresholds_are_valid_promql(tmp_path):
    # The live test evaluates these forms; a tokenizer mistake must show up here first.
    rules = [
        {"record": f"check:{index}", "expr": without_thresholds(query.expr)}
        for index, query in enumerate(alert_queries())
    ]
    path = tmp_path / "bool_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "bool", "rules": rules}]}))
    promtool("check", "rules", str(path))


def test_every_alert_has_for_severity_and_annotations():
    rules = alert_rules()
    assert REQUIRED_ALERTS <= {rule["alert"] for rule in rules}
    for rule in rules:
        assert rule.get("for"), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]


def test_datasource_and_dashboard_provider_are_provisioned():
    (datasource,) = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    assert (datasource["type"], datasource["url"]) == ("prometheus", "http://prometheus:9090")
    (provider,) = yaml.safe_load(PROVIDERS.read_text())["providers"]
    assert provider["type"] == "file" and provider["options"]["path"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboard_is_valid_grafana_json(path):
    board = next(board for board in load_dashboards() if board["uid"] == path.stem)
    assert isinstance(board["schemaVersion"], int) and board["schemaVersion"] >= 36
    assert board["title"] and board["panels"]
    ids = [panel["id"] for panel in board["panels"]] + [
        nested["id"] for row in board["panels"] for nested in row.get("panels", [])
    ]
    assert len(ids) == len(set(ids))
    for panel in panels(board):
        assert panel["datasource"] == {"type": "prometheus", "uid": datasource_uid()}, panel["title"]
        assert 0 <= panel["gridPos"]["x"] and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
        assert panel["targets"], f"{panel['title']} has no query"
        assert len({target["refId"] for target in panel["targets"]}) == len(panel["targets"]), panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert target["datasource"]["uid"] == datasource_uid(), panel["title"]


def test_dashboards_cover_the_issue():
    titles = {panel["title"] for board in load_dashboards() for panel in panels(board)}
    assert {
        "Throughput",
        "Approval rate",
        "Rejections by reason",
        "End-to-end latency",
        "API error rate",
        "Consumer lag",
        "CPU",
        "Resident memory",
        "Dead letters (time range)",
        "Webhook deliveries",
        "Webhooks: attempts by outcome",
        "Webhooks: attempt duration",
        "Webhooks: backlog",
        "Webhooks: oldest due delivery",
        "Webhooks: failing endpoints",
    } <= titles
    assert {board["uid"] for board in load_dashboards()} == {"gateway-overview", "service-health"}


def test_every_query_reads_only_metrics_the_services_define():
    known = catalogue.series_names()
    for query in dashboard_queries() + alert_queries():
        names = metric_names(query.expr)
        assert names, f"{query.source}: no metric found in {query.expr!r}"
        assert names <= known, f"{query.source} reads unknown metrics {sorted(names - known)}"


def test_every_service_metric_is_charted():
    charted = {catalogue.metric_of(name) for query in dashboard_queries() for name in metric_names(query.expr)}
    defined = {metric.name for metrics in catalogue.SERVICES.values() for metric in metrics}
    assert defined - charted == set()


BACKUP_ALERTS = ROOT / "k8s" / "prometheus" / "backup-alerts.yml"
BACKUP_ALERT_TESTS = ALERT_TESTS.parent / "backup_alerts_test.yml"


@pytest.mark.prometheus
def test_the_backup_alerts_fire_on_kube_state_metrics_series_of_a_failed_or_missing_backup():
    assert "SUCCESS" in promtool("check", "rules", str(BACKUP_ALERTS)).stdout
    promtool("test", "rules", str(BACKUP_ALERT_TESTS))


def test_the_backup_alerts_watch_the_backup_cronjob_of_the_manifests():
    (cronjob,) = [
        doc
        for doc in yaml.safe_load_all((ROOT / "k8s" / "base" / "mysql" / "backup.yaml").read_text())
        if doc and doc["kind"] == "CronJob"
    ]
    rules = [rule for group in yaml.safe_load(BACKUP_ALERTS.read_text())["groups"] for rule in group["rules"]]
    name = cronjob["metadata"]["name"]
    assert all(name in rule["expr"] for rule in rules) and len(rules) == 2
    for rule in rules:
        assert rule["for"] and rule["labels"]["severity"] == "critical" and rule["annotations"]["description"]
