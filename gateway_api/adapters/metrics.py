"""The Prometheus metrics of the gateway API's processes: the API's own (its HTTP metrics come from
infra.runtime.metrics.instrument_flask), the results consumer's (``gateway_results_``) and the webhook
dispatcher's (``gateway_webhooks_``).

Built by the composition root only (``gateway_api.bootstrap``), i.e. after gunicorn_conf set
PROMETHEUS_MULTIPROC_DIR, so under gunicorn every worker writes its samples to the shared directory.
The dispatcher's queue gauges are read from the database, so every replica reports the same values:
aggregate them with max(), not sum().
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, Info

from infra.kernel.contracts import REFUND_FINAL_STATUSES
from infra.runtime.metrics import END_TO_END_BUCKETS, LATENCY_BUCKETS, consumer_lag_stats_callback, offset_gaps_counter

from gateway_api.domain.deliveries import CANCELED, DELIVERED, FAILED, OUTCOMES
from gateway_api.domain.rate_limits import POLICY_NAMES


class ApiMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY):
        self.transactions_accepted = Counter(
            "gateway_api_transactions_accepted_total",
            "Transactions acknowledged by the broker and answered 202 (replays excluded)",
            registry=registry,
        )
        self.produce_duration = Histogram(
            "gateway_api_produce_duration_seconds",
            "Time from produce to broker acknowledgement (or give-up)",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.produce_failures = Counter(
            "gateway_api_produce_failures_total", "Publishes not acknowledged in time (answered 503)", registry=registry
        )
        self.refunds_accepted = Counter(
            "gateway_api_refunds_accepted_total",
            "Refunds acknowledged by the broker and answered 202 (replays excluded)",
            registry=registry,
        )
        self.ledger_write_failures = Counter(
            "gateway_api_ledger_write_failures_total",
            "Transactions acknowledged by the broker (answered 202) whose pending ledger row could not be written",
            registry=registry,
        )
        self.idempotent_replays = Counter(
            "gateway_api_idempotent_replays_total", "Requests answered from an idempotency key", registry=registry
        )
        self.rate_limited = Counter(
            "gateway_api_rate_limited_total",
            "Requests answered 429, by the policy they exceeded",
            ["policy"],
            registry=registry,
        )
        for policy in POLICY_NAMES:  # every series exists from the start: a rate() sees the first 429
            self.rate_limited.labels(policy)
        self.rate_limit_store_failures = Counter(
            "gateway_api_rate_limit_store_failures_total",
            "Requests let through uncounted because the rate limit store could not be reached",
            registry=registry,
        )

    def rate_limit_store_failed(self) -> None:
        self.rate_limit_store_failures.inc()

    def accepted(self, replayed: bool) -> None:
        (self.idempotent_replays if replayed else self.transactions_accepted).inc()

    def refund_accepted(self, replayed: bool) -> None:
        (self.idempotent_replays if replayed else self.refunds_accepted).inc()

    def ledger_write_failed(self) -> None:
        self.ledger_write_failures.inc()

    def published(self, seconds: float, ok: bool) -> None:
        self.produce_duration.observe(seconds)
        if not ok:
            self.produce_failures.inc()


class ResultsMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY):
        self.applied = Counter(
            "gateway_results_applied_total",
            "Results written to the ledger (redeliveries included)",
            ["status"],
            registry=registry,
        )
        self.batch_duration = Histogram(
            "gateway_results_batch_duration_seconds",
            "Time to apply one batch",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "gateway_results_consumer_lag", "Messages not yet consumed", ["topic", "partition"], registry=registry
        )
        self.batch_failures = Counter(
            "gateway_results_batch_failures_total", "Batches that failed and will be retried", registry=registry
        )
        self.dead_letters = Counter(
            "gateway_results_dead_letters_total",
            "Results the ledger can never apply, sent to the dead-letter topic with the reason",
            registry=registry,
        )
        self.assigned_partitions = Gauge(
            "gateway_results_assigned_partitions",
            "Partitions of the results topic this consumer owns",
            registry=registry,
        )
        self.partition_assignments = Counter(
            "gateway_results_partition_assignments_total",
            "Times this consumer was given partitions (joins and rebalances)",
            registry=registry,
        )
        self.offset_gaps_accepted = offset_gaps_counter("gateway_results", registry)
        self.oldest_pending = Gauge(
            "gateway_results_oldest_pending_seconds",
            "Age of the oldest transaction still pending in the ledger (0 when none)",
            registry=registry,
        )
        self.refunds_applied = Counter(
            "gateway_results_refunds_applied_total",
            "Refunds made final in the ledger (each once), by status",
            ["status"],
            registry=registry,
        )
        for status in REFUND_FINAL_STATUSES:
            self.refunds_applied.labels(status)

    def lag_stats_callback(self):
        return consumer_lag_stats_callback(self.consumer_lag)


class WebhookMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY):
        attempts = Counter(
            "gateway_webhooks_attempts_total", "Delivery attempts by outcome", ["outcome"], registry=registry
        )
        deliveries = Counter(
            "gateway_webhooks_deliveries_total",
            "Deliveries that ended: delivered, failed or canceled",
            ["status"],
            registry=registry,
        )
        # Every label value exists from the start (rate() then sees the first increment after a
        # restart), and is looked up once, not per delivery.
        self.attempts_by_outcome = {outcome: attempts.labels(outcome) for outcome in OUTCOMES}
        self.deliveries_by_status = {status: deliveries.labels(status) for status in (DELIVERED, FAILED, CANCELED)}
        self.attempt_duration = Histogram(
            "gateway_webhooks_attempt_duration_seconds",
            "One POST to an endpoint, until its answer",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.delivery_latency = Histogram(
            "gateway_webhooks_delivery_latency_seconds",
            "From the event being recorded to its delivery (a 2xx)",
            buckets=END_TO_END_BUCKETS,
            registry=registry,
        )
        self.backlog = Gauge(
            "gateway_webhooks_backlog",
            "Pending deliveries whose time has come (being sent or waiting)",
            registry=registry,
        )
        self.backlog_age = Gauge(
            "gateway_webhooks_backlog_age_seconds",
            "How long the oldest due delivery has been waiting",
            registry=registry,
        )
        self.scheduled_retries = Gauge(
            "gateway_webhooks_scheduled_retries", "Pending deliveries waiting for a later retry", registry=registry
        )
        self.failing_endpoints = Gauge(
            "gateway_webhooks_failing_endpoints",
            "Enabled endpoints failing since their last success",
            registry=registry,
        )
        self.longest_failing = Gauge(
            "gateway_webhooks_longest_failing_endpoint_seconds",
            "How long the longest-failing enabled endpoint has failed every attempt",
            registry=registry,
        )


class AuditMetrics:
    """The audit trail's chain as the results consumer last verified it (``gateway_api.use_cases.audit``)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY):
        self.head_seq = Gauge(
            "gateway_audit_chain_head_seq", "Sequence number of the newest audit entry verified", registry=registry
        )
        self.head = Info(
            "gateway_audit_chain_head",
            "The verified head of the audit chain (seq and hash): keep it "
            "outside the database, `audit verify --head SEQ:HASH` checks against it",
            registry=registry,
        )
        self.valid = Gauge(
            "gateway_audit_chain_valid", "1 when the last check found the audit chain intact, else 0", registry=registry
        )
        self.last_check = Gauge(
            "gateway_audit_chain_last_check_timestamp_seconds",
            "When the audit chain was last checked (Unix time)",
            registry=registry,
        )
        self.first_bad = Gauge(
            "gateway_audit_chain_first_bad_seq",
            "The first audit entry that does not hold (0 when the chain is intact)",
            registry=registry,
        )

    def checked(self, seq: int, digest: str, valid: bool, first_bad: int | None, at: float) -> None:
        self.head_seq.set(seq)
        self.head.info({"seq": str(seq), "hash": digest})
        self.valid.set(1 if valid else 0)
        self.first_bad.set(first_bad or 0)
        self.last_check.set(at)
