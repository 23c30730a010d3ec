"""One metrics style: a class taking a registry, built once per registry by its composition root."""
import ast
from pathlib import Path

from prometheus_client import CollectorRegistry

from gateway_api.adapters.metrics import ApiMetrics
from infra.runtime.metrics import metrics_for

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
    sources = [path for package in ("infra", "processor", "gateway_api", "panel") for path in (ROOT / package).rglob("*.py")]
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
