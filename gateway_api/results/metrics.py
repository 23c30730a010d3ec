"""The results consumer's metrics (``gateway_results_``)."""
from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from infra.metrics import LATENCY_BUCKETS, consumer_lag_stats_callback, offset_gaps_counter


class ResultsMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY):
        self.applied = Counter("gateway_results_applied_total", "Results written to the ledger (redeliveries included)",
                               ["status"], registry=registry)
        self.batch_duration = Histogram("gateway_results_batch_duration_seconds", "Time to apply one batch",
                                        buckets=LATENCY_BUCKETS, registry=registry)
        self.consumer_lag = Gauge("gateway_results_consumer_lag", "Messages not yet consumed", ["topic", "partition"],
                                  registry=registry)
        self.batch_failures = Counter("gateway_results_batch_failures_total",
                                      "Batches that failed and will be retried", registry=registry)
        self.dead_letters = Counter("gateway_results_dead_letters_total",
                                    "Results the ledger can never apply, sent to the dead-letter topic with the reason",
                                    registry=registry)
        self.assigned_partitions = Gauge("gateway_results_assigned_partitions",
                                         "Partitions of the results topic this consumer owns", registry=registry)
        self.offset_gaps_accepted = offset_gaps_counter("gateway_results", registry)
        self.oldest_pending = Gauge("gateway_results_oldest_pending_seconds",
                                    "Age of the oldest transaction still pending in the ledger (0 when none)",
                                    registry=registry)

    def lag_stats_callback(self):
        return consumer_lag_stats_callback(self.consumer_lag)
