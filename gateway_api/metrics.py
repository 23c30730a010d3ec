"""The API's own Prometheus metrics (HTTP metrics come from infra.metrics.instrument_flask).

Imported by the app factory only, i.e. after gunicorn_conf set PROMETHEUS_MULTIPROC_DIR, so under
gunicorn every worker writes its samples to the shared directory.
"""
from __future__ import annotations

from prometheus_client import Counter, Histogram

from infra.metrics import LATENCY_BUCKETS

TRANSACTIONS_ACCEPTED = Counter("gateway_api_transactions_accepted_total",
                                "Transactions acknowledged by the broker and answered 202 (replays excluded)")
PRODUCE_DURATION = Histogram("gateway_api_produce_duration_seconds",
                             "Time from produce to broker acknowledgement (or give-up)", buckets=LATENCY_BUCKETS)
PRODUCE_FAILURES = Counter("gateway_api_produce_failures_total", "Publishes not acknowledged in time (answered 503)")
LEDGER_WRITE_FAILURES = Counter(
    "gateway_api_ledger_write_failures_total",
    "Transactions acknowledged by the broker (answered 202) whose pending ledger row could not be written")
IDEMPOTENT_REPLAYS = Counter("gateway_api_idempotent_replays_total", "Requests answered from an idempotency key")


class ApiMetrics:
    def accepted(self, replayed: bool) -> None:
        (IDEMPOTENT_REPLAYS if replayed else TRANSACTIONS_ACCEPTED).inc()

    def ledger_write_failed(self) -> None:
        LEDGER_WRITE_FAILURES.inc()

    def published(self, seconds: float, ok: bool) -> None:
        PRODUCE_DURATION.observe(seconds)
        if not ok:
            PRODUCE_FAILURES.inc()
