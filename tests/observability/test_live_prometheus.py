"""A real Prometheus scrapes the running stack under a small load; every chart and alert must have data.

Dashboard queries are sent as Grafana would send them, its interval variables substituted first.
Alert rules are evaluated twice: as written (must parse and evaluate) and with every comparison
made a ``bool`` comparison (see queries.without_thresholds), which must return data: a rule that is
not firing returns nothing as written, and "nothing" would not tell a healthy system from a rule
reading a metric no service exposes.
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest

from infra.runtime.kafka import Record, build_acked_producer
from infra.stack.prometheus_local import prometheus_binary

from tests.e2e.helpers import basic_auth, card, final_transaction, pay
from tests.observability import catalogue
from tests.observability.conftest import stack_targets
from tests.observability.queries import (
    Query,
    alert_queries,
    dashboard_queries,
    substitute_grafana_variables,
    without_thresholds,
)
from tests.support import skip_or_fail, utc_today, wait_until
from tests.support.receiver import Receiver

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

# What Grafana would send for a 5-minute view scraped every second ($__rate_interval >= 4 scrapes).
GRAFANA_VARIABLES = {"rate_interval": "10s", "range_": "5m", "interval": "1s"}
DATA_TIMEOUT = 30  # seconds, shared by all queries: the first waits for the scrapes after the load
LAST_YEAR = utc_today().year - 1


@dataclass
class Traffic:
    deadline: float

    def remaining(self) -> float:
        return max(self.deadline - time.monotonic(), 2.0)


@pytest.fixture(scope="module")
def webhook_receiver():
    with Receiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def traffic(running_stack, prometheus, webhook_receiver) -> Traffic:
    """Approved, rejected, 4xx, an idempotent replay, a dead letter and webhook deliveries, once
    Prometheus scrapes every target."""
    wait_until(lambda: all_targets_up(prometheus), 20, interval=0.2, message="every target scraped and up")
    merchant = running_stack.create_merchant("Observability shop")
    status, body, _ = running_stack.request(
        "POST",
        "/v1/webhook_endpoints",
        {"url": webhook_receiver.url, "enabled_events": ["*"]},
        headers=basic_auth(merchant),
    )
    assert status == 201, body
    ids = [
        accepted(running_stack, merchant, amount, credit_card)
        for amount, credit_card in (
            ("10.50", card()),
            ("99.99", card()),
            ("5000", card()),
            ("10.00", card(year=LAST_YEAR)),
            ("0.50", card()),
        )
    ]
    replay = {"Idempotency-Key": "observability-replay-1"}
    ids.append(accepted(running_stack, merchant, "12.00", card(), replay))
    pay(running_stack, merchant, "12.00", card(), replay)
    running_stack.request("POST", "/v1/transactions", {"credit_card": card()}, headers=basic_auth(merchant))  # 422
    running_stack.request("GET", "/v1/me")  # 401
    urllib.request.urlopen(running_stack.settings.panel_url + "/", timeout=5).close()
    panel_not_found(running_stack)
    produce_garbage(running_stack)
    for transaction_id in ids:
        final_transaction(running_stack, merchant, transaction_id, timeout=15)
    wait_until(lambda: len(webhook_receiver.requests) >= len(ids), 15, message="the webhooks delivered")
    return Traffic(deadline=time.monotonic() + DATA_TIMEOUT)


def accepted(stack, merchant, amount, credit_card, headers=None) -> str:
    status, body, _ = pay(stack, merchant, amount, credit_card, headers)
    assert status == 202, body
    return body["id"]


def panel_not_found(stack) -> None:
    try:
        urllib.request.urlopen(stack.settings.panel_url + "/no-such-page", timeout=5).close()
    except urllib.error.HTTPError as error:
        assert error.code == 404


def produce_garbage(stack) -> None:
    """A message on `transactions` nobody can identify: the processor must dead-letter it."""
    settings = stack.kafka_settings()
    producer = build_acked_producer(settings, "observability-test")
    producer.send([Record(settings.topics.transactions, b"\x00not a transaction{", b"garbage")], timeout=10)
    producer.flush()


JOBS = ("prometheus", "api", "processor", "results", "panel", "webhooks")


def all_targets_up(prometheus) -> bool:
    targets = prometheus.targets()
    jobs = {target["labels"]["job"] for target in targets if target["health"] == "up"}
    return jobs == set(JOBS) and all(target["health"] == "up" for target in targets)


def wait_for_data(prometheus, traffic: Traffic, expr: str) -> dict:
    """The query's answer once it has samples; fails at once on an error, after the deadline if empty."""
    answers = []

    def has_data():
        answer = prometheus.query(expr)
        answers.append(answer)
        if answer["status"] != "success":
            pytest.fail(f"Prometheus refused {expr!r}: {answer.get('errorType')}: {answer.get('error')}", pytrace=False)
        return answer["data"]["result"]

    deadline = time.monotonic() + traffic.remaining()
    while not has_data():
        if time.monotonic() > deadline:
            pytest.fail(f"no data for {expr!r} (last answer {answers[-1]})", pytrace=False)
        time.sleep(0.25)
    return answers[-1]


def test_prometheus_scrapes_every_service(prometheus, traffic):
    jobs = {target["labels"]["job"]: target["health"] for target in prometheus.targets()}
    assert jobs == {job: "up" for job in JOBS}


@pytest.mark.parametrize("job", sorted(catalogue.SERVICES))
def test_service_exposes_every_metric_of_the_brief(prometheus, traffic, job):
    def exposed():
        answer = prometheus.get("/api/v1/label/__name__/values", **{"match[]": f'{{job="{job}"}}'})
        return set(answer["data"])

    wanted = {metric.name + ("_bucket" if metric.type == "histogram" else "") for metric in catalogue.SERVICES[job]}
    deadline = time.monotonic() + traffic.remaining()
    while (missing := wanted - exposed()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not missing, f"job {job} does not expose {sorted(missing)}"


@pytest.mark.parametrize("query", dashboard_queries(), ids=lambda query: query.source)
def test_dashboard_query_returns_data(prometheus, traffic, query: Query):
    expr = substitute_grafana_variables(query.expr, **GRAFANA_VARIABLES)
    assert "$" not in expr, f"unsubstituted Grafana variable in {expr!r}"
    wait_for_data(prometheus, traffic, expr)


@pytest.mark.parametrize("query", alert_queries(), ids=lambda query: query.source)
def test_alert_rule_parses_and_its_metrics_have_data(prometheus, traffic, query: Query):
    as_written = prometheus.query(query.expr)
    assert as_written["status"] == "success", as_written
    wait_for_data(prometheus, traffic, without_thresholds(query.expr))


def test_dead_letter_alert_goes_off(prometheus, traffic):
    def dead_letter_alert():
        return [
            alert["state"] for alert in prometheus.alerts() if alert["labels"]["alertname"] == "DeadLetterQueueNotEmpty"
        ]

    assert wait_until(
        dead_letter_alert, traffic.remaining(), interval=0.25, message="DeadLetterQueueNotEmpty pending or firing"
    )[0] in {"pending", "firing"}


def test_no_other_alert_goes_off_under_normal_load(prometheus, traffic):
    wait_for_data(prometheus, traffic, 'ALERTS{alertname="DeadLetterQueueNotEmpty"}')
    assert {alert["labels"]["alertname"] for alert in prometheus.alerts()} == {"DeadLetterQueueNotEmpty"}


def test_metrics_are_not_served_on_the_public_ports(running_stack):
    for url in (running_stack.settings.api_url, running_stack.settings.panel_url):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}/metrics", timeout=10)
        assert refused.value.code == 404, url


@pytest.mark.parametrize("job", sorted(catalogue.SERVICES))
def test_service_metrics_pass_promtool_lint(running_stack, traffic, job):
    promtool = prometheus_binary("promtool") or skip_or_fail("promtool not installed (apt-get install prometheus)")
    (address,) = stack_targets(running_stack)[job]
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as response:
        exposition = response.read()
    result = subprocess.run([promtool, "check", "metrics"], input=exposition, capture_output=True, timeout=30)
    assert result.returncode == 0, (result.stdout + result.stderr).decode()
