from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from infra.metrics import LATENCY_BUCKETS, offset_gaps_counter

APPLIED = Counter("gateway_results_applied_total", "Results written to the ledger (redeliveries included)", ["status"])
BATCH_DURATION = Histogram("gateway_results_batch_duration_seconds", "Time to apply one batch", buckets=LATENCY_BUCKETS)
CONSUMER_LAG = Gauge("gateway_results_consumer_lag", "Messages not yet consumed", ["topic", "partition"])
BATCH_FAILURES = Counter("gateway_results_batch_failures_total", "Batches that failed and will be retried")
DEAD_LETTERS = Counter("gateway_results_dead_letters_total",
                       "Results the ledger can never apply, sent to the dead-letter topic with the reason")
ASSIGNED_PARTITIONS = Gauge("gateway_results_assigned_partitions", "Partitions of the results topic this consumer owns")
OFFSET_GAPS_ACCEPTED = offset_gaps_counter("gateway_results")
OLDEST_PENDING = Gauge("gateway_results_oldest_pending_seconds",
                       "Age of the oldest transaction still pending in the ledger (0 when none)")
