"""The HTTP metrics' labels stay bounded whatever a caller sends: a route template or ``unmatched``, a
standard method or ``other``, a registered status or its class; never one series per hostile value."""

import ast
import random
import string
from http import HTTPStatus
from pathlib import Path

import pytest
from flask import Flask, Response
from prometheus_client import CollectorRegistry

from infra.runtime.metrics import STANDARD_METHODS, instrument_flask, metrics_for

from gateway_api.adapters.metrics import ApiMetrics

REGISTERED_STATUSES = {str(status.value) for status in HTTPStatus}
STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"}


@pytest.fixture
def registry():
    return CollectorRegistry()


@pytest.fixture
def client(registry):
    app = Flask(__name__)

    @app.route("/echo/<int:code>", methods=["GET", "POST"])
    def echo(code):  # answers with a status it was handed, as the panel does with the API's 4xx answers
        return Response(status=code)

    instrument_flask(app, "unit", registry)
    return app.test_client()


def labels(registry, name: str) -> set[str]:
    return {
        sample.labels[name]
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == "unit_http_requests_total"
    }


def series(registry) -> int:
    return sum(
        1
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name.startswith("unit_http_request") and not sample.name.endswith("_created")
    )


def test_a_status_outside_the_registered_ones_is_labelled_by_its_class(client, registry):
    for code in range(100, 1000):
        client.get(f"/echo/{code}")
    assert labels(registry, "status") <= REGISTERED_STATUSES | STATUS_CLASSES | {"other"}
    assert {"200", "429", "4xx", "5xx", "other"} <= labels(registry, "status")
    assert series(registry) <= len(REGISTERED_STATUSES) + len(STATUS_CLASSES) + 1 + 16  # + one histogram


def test_made_up_methods_and_paths_share_one_label_each(client, registry):
    client.get("/echo/200")
    before = series(registry)
    for _ in range(300):
        method = "".join(random.choices(string.ascii_uppercase, k=random.randint(3, 20)))
        client.open(f"/{uuid_like()}", method=method)
        client.open("/echo/200", method=method)
    assert labels(registry, "method") <= STANDARD_METHODS | {"other"}
    assert labels(registry, "route") == {"/echo/<int:code>", "unmatched"}
    # other x unmatched: 404 and 405, one histogram (13 buckets, +Inf, sum, count)
    assert series(registry) - before == 2 + 16


def uuid_like() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=12))


ROOT = Path(__file__).resolve().parents[3]
METRIC_TYPES = {"Counter", "Gauge", "Histogram", "Summary", "Info", "Enum"}


def module_level_metrics(path: Path) -> list[str]:
    found = []
    for node in ast.parse(path.read_text()).body:
        value = getattr(node, "value", None)
        if isinstance(value, ast.Call) and getattr(value.func, "id", getattr(value.func, "attr", "")) in METRIC_TYPES:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_module_creates_a_metric_at_import():
    sources = [
        path for package in ("infra", "processor", "gateway_api", "panel") for path in (ROOT / package).rglob("*.py")
    ]
    assert [place for path in sources for place in module_level_metrics(path)] == []


def test_a_registry_gets_one_set_of_metrics_however_many_times_an_app_is_built():
    registry = CollectorRegistry()
    first = metrics_for(ApiMetrics, registry)
    assert metrics_for(ApiMetrics, registry) is first
    assert metrics_for(ApiMetrics, CollectorRegistry()) is not first
    first.accepted(replayed=False)
    assert registry.get_sample_value("gateway_api_transactions_accepted_total") == 1


def test_observing_a_batch_at_once_exposes_what_observing_each_amount_does():
    from prometheus_client import Histogram, generate_latest

    from infra.runtime.metrics import END_TO_END_BUCKETS, observe_all

    amounts = [0.0, 0.005, 0.0051, 0.25, 0.3, 1, 59.9, 60, 61, 1e9]  # on, between and beyond the bounds
    each, batch = CollectorRegistry(), CollectorRegistry()
    one_by_one = Histogram("e2e_seconds", "d", buckets=END_TO_END_BUCKETS, registry=each)
    for amount in amounts:
        one_by_one.observe(amount)
    observe_all(Histogram("e2e_seconds", "d", buckets=END_TO_END_BUCKETS, registry=batch), amounts)
    observe_all(Histogram("unused_seconds", "d", registry=CollectorRegistry()), [])  # nothing observed: no error

    def samples(registry):
        return [line for line in generate_latest(registry).decode().splitlines() if "_created" not in line]

    assert samples(batch) == samples(each)
