"""The panel's own metrics (HTTP metrics come from infra.metrics.instrument_flask, prefix ``panel``).

Under gunicorn they are multiprocess: ``panel_sse_clients`` sums the live streams of every worker;
``panel_results_received_total`` counts per process, and since every worker consumes every result
it grows by (workers x results): divide by the number of workers for the result rate.
"""
from prometheus_client import Counter, Gauge

from infra.metrics import offset_gaps_counter

SSE_CLIENTS = Gauge("panel_sse_clients", "Open Server-Sent Events streams", multiprocess_mode="livesum")
RESULTS_RECEIVED = Counter("panel_results_received_total", "Results read from transactions_result by this process")
# Per process too: every worker reads every partition, so each counts the gaps it gave up on.
OFFSET_GAPS_ACCEPTED = offset_gaps_counter("panel")
