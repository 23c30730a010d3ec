"""The processor's Prometheus metrics (served by ``infra.runtime.health.serve_worker_http``)."""

from __future__ import annotations

from collections import Counter as Tally

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from infra.kernel.contracts import REFUND_FAILED, REFUND_FAILURE_REASONS, REFUND_SUCCEEDED
from infra.runtime.metrics import (
    END_TO_END_BUCKETS,
    LATENCY_BUCKETS,
    consumer_lag_stats_callback,
    observe_all,
    offset_gaps_counter,
)

BATCH_SIZE_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000)


class ProcessorMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY):
        self.processed = Counter(
            "processor_transactions_processed_total",
            "Transactions decided, by status and rejection reason",
            ["status", "reason"],
            registry=registry,
        )
        self.batch_size = Histogram(
            "processor_batch_size", "Messages per polled batch", buckets=BATCH_SIZE_BUCKETS, registry=registry
        )
        self.batch_duration = Histogram(
            "processor_batch_duration_seconds",
            "Time to decode, store and publish a batch",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.end_to_end = Histogram(
            "processor_end_to_end_seconds",
            "From a transaction's created_at to its decision",
            buckets=END_TO_END_BUCKETS,
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "processor_consumer_lag",
            "Messages not yet consumed, per partition",
            ["topic", "partition"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "processor_dlq_messages_total", "Unusable messages sent to the DLQ", registry=registry
        )
        self.assigned_partitions = Gauge(
            "processor_assigned_partitions",
            "Partitions of the transactions topic this processor owns",
            registry=registry,
        )
        self.partition_assignments = Counter(
            "processor_partition_assignments_total",
            "Times this processor was given partitions (joins and rebalances)",
            registry=registry,
        )
        self.batch_failures = Counter(
            "processor_batch_failures_total", "Batch attempts that failed and will be retried", registry=registry
        )
        self.offset_gaps_accepted = offset_gaps_counter("processor", registry)
        self.refunds = Counter(
            "processor_refunds_decided_total",
            "Refunds decided, by status and failure reason",
            ["status", "reason"],
            registry=registry,
        )
        # Every label value exists from the start (the table of reasons is closed).
        self.refunds.labels(REFUND_SUCCEEDED, "")
        for reason in REFUND_FAILURE_REASONS:
            self.refunds.labels(REFUND_FAILED, reason)
        self.refunded_amount = Counter(
            "processor_refunded_amount_total", "Money refunded by succeeded refunds (currency units)", registry=registry
        )

    def lag_stats_callback(self):
        return consumer_lag_stats_callback(self.consumer_lag)

    def record_batch(self, batch, messages: int, dead_letters: int, seconds: float) -> None:
        self.batch_size.observe(messages)
        self.batch_duration.observe(seconds)
        if dead_letters:
            self.dead_letters.inc(dead_letters)
        for (status, reason), count in Tally((o.status, o.error_message) for o in batch.decided).items():
            self.processed.labels(status, reason).inc(count)
        observe_all(
            self.end_to_end,
            [
                max((o.processed_at - o.created_at).total_seconds(), 0.0)
                for o in batch.decided
                if o.created_at is not None
            ],
        )

    def record_refunds(self, batch, dead_letters: int) -> None:
        if dead_letters:
            self.dead_letters.inc(dead_letters)
        for outcome in batch.decided:
            self.refunds.labels(outcome.status, outcome.failure_reason or "").inc()
            if outcome.succeeded:
                self.refunded_amount.inc(float(outcome.amount))
