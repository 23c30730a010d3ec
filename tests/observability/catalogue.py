"""The metrics every service exposes, exactly as docs/observability.md names them.

Dashboards and alerts may only read these (plus Prometheus' own ``up``); the live test checks that
the running services expose them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    type: str  # counter | gauge | histogram
    labels: tuple[str, ...] = ()


def _http(prefix: str) -> tuple[Metric, ...]:
    return (
        Metric(f"{prefix}_http_requests_total", "counter", ("route", "method", "status")),
        Metric(f"{prefix}_http_request_duration_seconds", "histogram", ("route", "method")),
    )


PROCESS = (
    Metric("process_cpu_seconds_total", "counter"),
    Metric("process_resident_memory_bytes", "gauge"),
)

# job name (as in infra/prometheus/prometheus.yml) -> what it exposes
SERVICES: dict[str, tuple[Metric, ...]] = {
    "api": _http("gateway_api")
    + (
        Metric("gateway_api_transactions_accepted_total", "counter"),
        Metric("gateway_api_produce_duration_seconds", "histogram"),
        Metric("gateway_api_produce_failures_total", "counter"),
        Metric("gateway_api_idempotent_replays_total", "counter"),
        Metric("gateway_api_ledger_write_failures_total", "counter"),
        Metric("gateway_api_rate_limited_total", "counter", ("policy",)),
        Metric("gateway_api_rate_limit_store_failures_total", "counter"),
        Metric("gateway_api_refunds_accepted_total", "counter"),
    )
    + PROCESS,
    "processor": (
        Metric("processor_transactions_processed_total", "counter", ("status", "reason")),
        Metric("processor_batch_size", "histogram"),
        Metric("processor_batch_duration_seconds", "histogram"),
        Metric("processor_end_to_end_seconds", "histogram"),
        Metric("processor_consumer_lag", "gauge", ("topic", "partition")),
        Metric("processor_dlq_messages_total", "counter"),
        Metric("processor_batch_failures_total", "counter"),
        Metric("processor_offset_gaps_accepted_total", "counter"),
        Metric("processor_refunds_decided_total", "counter", ("status", "reason")),
        Metric("processor_refunded_amount_total", "counter"),
    )
    + PROCESS,
    "results": (
        Metric("gateway_results_applied_total", "counter", ("status",)),
        Metric("gateway_results_batch_duration_seconds", "histogram"),
        Metric("gateway_results_consumer_lag", "gauge", ("topic", "partition")),
        Metric("gateway_results_batch_failures_total", "counter"),
        Metric("gateway_results_dead_letters_total", "counter"),
        Metric("gateway_results_offset_gaps_accepted_total", "counter"),
        Metric("gateway_results_oldest_pending_seconds", "gauge"),
        # The audit chain, verified periodically by the results consumer (docs/integrate.md, Audit trail).
        Metric("gateway_audit_chain_head_seq", "gauge"),
        Metric("gateway_audit_chain_head_info", "gauge", ("seq", "hash")),
        Metric("gateway_audit_chain_valid", "gauge"),
        Metric("gateway_audit_chain_first_bad_seq", "gauge"),
        Metric("gateway_audit_chain_last_check_timestamp_seconds", "gauge"),
        Metric("gateway_results_refunds_applied_total", "counter", ("status",)),
    )
    + PROCESS,
    "webhooks": (
        Metric("gateway_webhooks_attempts_total", "counter", ("outcome",)),
        Metric("gateway_webhooks_deliveries_total", "counter", ("status",)),
        Metric("gateway_webhooks_attempt_duration_seconds", "histogram"),
        Metric("gateway_webhooks_delivery_latency_seconds", "histogram"),
        Metric("gateway_webhooks_backlog", "gauge"),
        Metric("gateway_webhooks_backlog_age_seconds", "gauge"),
        Metric("gateway_webhooks_scheduled_retries", "gauge"),
        Metric("gateway_webhooks_failing_endpoints", "gauge"),
        Metric("gateway_webhooks_longest_failing_endpoint_seconds", "gauge"),
    )
    + PROCESS,
    "panel": _http("panel")
    + (
        Metric("panel_sse_clients", "gauge"),
        Metric("panel_results_received_total", "counter"),
        Metric("panel_refunds_received_total", "counter"),
        Metric("panel_unusable_messages_total", "counter"),
        Metric("panel_offset_gaps_accepted_total", "counter"),
    )
    + PROCESS,
}

PROMETHEUS_BUILTIN = {"up"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def series_names() -> set[str]:
    """Every series name a query may read: counters and gauges as is, histograms by their suffixes."""
    names = set(PROMETHEUS_BUILTIN)
    for metrics in SERVICES.values():
        for metric in metrics:
            if metric.type == "histogram":
                names.update(metric.name + suffix for suffix in HISTOGRAM_SUFFIXES)
            else:
                names.add(metric.name)
    return names


def metric_of(series: str) -> str:
    """The metric a series name belongs to (``x_bucket`` -> ``x`` for histograms)."""
    histograms = {m.name for metrics in SERVICES.values() for m in metrics if m.type == "histogram"}
    for suffix in HISTOGRAM_SUFFIXES:
        if series.endswith(suffix) and series.removesuffix(suffix) in histograms:
            return series.removesuffix(suffix)
    return series
