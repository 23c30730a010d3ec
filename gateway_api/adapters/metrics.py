"""The API's own Prometheus metrics (HTTP metrics come from infra.metrics.instrument_flask).

Built by the app factory only, i.e. after gunicorn_conf set PROMETHEUS_MULTIPROC_DIR, so under
gunicorn every worker writes its samples to the shared directory.
"""
from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from infra.metrics import LATENCY_BUCKETS


class ApiMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY):
        self.transactions_accepted = Counter(
            "gateway_api_transactions_accepted_total",
            "Transactions acknowledged by the broker and answered 202 (replays excluded)", registry=registry)
        self.produce_duration = Histogram(
            "gateway_api_produce_duration_seconds", "Time from produce to broker acknowledgement (or give-up)",
            buckets=LATENCY_BUCKETS, registry=registry)
        self.produce_failures = Counter(
            "gateway_api_produce_failures_total", "Publishes not acknowledged in time (answered 503)",
            registry=registry)
        self.ledger_write_failures = Counter(
            "gateway_api_ledger_write_failures_total",
            "Transactions acknowledged by the broker (answered 202) whose pending ledger row could not be written",
            registry=registry)
        self.idempotent_replays = Counter(
            "gateway_api_idempotent_replays_total", "Requests answered from an idempotency key", registry=registry)

    def accepted(self, replayed: bool) -> None:
        (self.idempotent_replays if replayed else self.transactions_accepted).inc()

    def ledger_write_failed(self) -> None:
        self.ledger_write_failures.inc()

    def published(self, seconds: float, ok: bool) -> None:
        self.produce_duration.observe(seconds)
        if not ok:
            self.produce_failures.inc()
