"""The panel's own metrics (HTTP metrics come from infra.runtime.metrics.instrument_flask, prefix ``panel``).

Under gunicorn they are multiprocess: ``panel_sse_clients`` sums the live streams of every worker;
``panel_results_received_total`` counts per process, and since every worker consumes every result
it grows by (workers x results): divide by the number of workers for the result rate.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge

from infra.runtime.metrics import offset_gaps_counter


class PanelMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY):
        self.sse_clients = Gauge(
            "panel_sse_clients", "Open Server-Sent Events streams", multiprocess_mode="livesum", registry=registry
        )
        self.results_received = Counter(
            "panel_results_received_total", "Results read from transactions_result by this process", registry=registry
        )
        self.refunds_received = Counter(
            "panel_refunds_received_total",
            "Refund decisions read from refunds_result by this process",
            registry=registry,
        )
        self.unusable_messages = Counter(
            "panel_unusable_messages_total",
            "Messages on either topic skipped because they cannot be shown",
            registry=registry,
        )
        # Per process too: every worker reads every partition, so each counts the gaps it gave up on.
        self.offset_gaps_accepted = offset_gaps_counter("panel", registry)
