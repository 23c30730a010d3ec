"""Prometheus helpers shared by the services: registries, the /metrics endpoint, Flask and Kafka hooks.

One style everywhere: a service's metrics are a class whose constructor takes the registry and
creates every metric as an attribute (``ProcessorMetrics(registry)``); the composition root builds
it with ``metrics_for`` and hands it to whatever records. No module-level metric objects: a metric
then exists only after gunicorn's config set PROMETHEUS_MULTIPROC_DIR, and tests can pass their own
registry.

Naming: one prefix per process (``gateway_api_``, ``processor_``, ``gateway_results_``,
``gateway_webhooks_``, ``panel_``), base units, ``_total`` counters and ``_seconds`` histograms. Labels
stay bounded: route templates, methods, status codes, transaction status and rejection reason; never a
merchant id or card data.
Under gunicorn, PROMETHEUS_MULTIPROC_DIR must be set before prometheus_client is imported (the
gunicorn config does it) so that every worker's samples are aggregated.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from infra.process_metrics import update_this_worker

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
END_TO_END_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


def exposition() -> tuple[bytes, str]:
    """The body and content type of a /metrics response, aggregated across processes if needed."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        # process_cpu_seconds_total and process_resident_memory_bytes: every worker's (process_metrics).
        update_this_worker()
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


M = TypeVar("M")
_built: dict[tuple, object] = {}


def metrics_for(metrics_class: Callable[..., M], registry: CollectorRegistry = REGISTRY, **options) -> M:
    """The one ``metrics_class(registry, **options)`` of this process for ``registry``.

    A registry refuses a second metric of the same name, and an app factory may run many times in
    one process (the tests build many apps): the second build gets the metrics of the first.
    """
    key = (metrics_class, registry, tuple(sorted(options.items())))  # the registry itself: an id could be reused
    if key not in _built:
        _built[key] = metrics_class(registry, **options)
    return _built[key]


class HttpMetrics:
    """``<prefix>_http_requests_total`` and ``<prefix>_http_request_duration_seconds``, by route template."""

    def __init__(self, registry: CollectorRegistry = REGISTRY, prefix: str = ""):
        self.requests = Counter(f"{prefix}_http_requests_total", "HTTP requests", ["route", "method", "status"],
                                registry=registry)
        self.duration = Histogram(
            f"{prefix}_http_request_duration_seconds", "HTTP request duration", ["route", "method"],
            buckets=LATENCY_BUCKETS, registry=registry,
        )


def instrument_flask(app, prefix: str, registry: CollectorRegistry = REGISTRY) -> None:
    """Count and time every request by route template (never the raw path) and add GET /metrics."""
    from flask import Response, request

    from infra.request_timing import request_seconds, time_requests

    metrics = metrics_for(HttpMetrics, registry, prefix=prefix)
    time_requests(app)

    @app.after_request
    def _record(response):
        seconds = request_seconds()
        route = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.requests.labels(route, request.method, str(response.status_code)).inc()
        if seconds is not None:
            metrics.duration.labels(route, request.method).observe(seconds)
        return response

    def metrics_view():
        body, content_type = exposition()
        return Response(body, content_type=content_type)

    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])


def offset_gaps_counter(prefix: str, registry: CollectorRegistry = REGISTRY) -> Counter:
    """``<prefix>_offset_gaps_accepted_total``: records a consumer gave up waiting for (infra.offset_gaps).

    Unlabelled, so it is exported at 0 from the start and an alert's increase() sees the first one.
    """
    return Counter(f"{prefix}_offset_gaps_accepted_total",
                   "Offset gaps given up on: records this consumer never read (see infra/offset_gaps.py)",
                   registry=registry)


def consumer_lag_stats_callback(gauge: Gauge) -> Callable[[str], None]:
    """A librdkafka ``stats_cb`` that sets ``gauge{topic, partition}`` to the consumer lag of the
    partitions this consumer owns, and removes the series of those it no longer owns (a rebalance
    moved them to another member, whose own series now counts them: a stale value here would be
    summed twice by the lag alert, the dashboards and an autoscaler)."""
    shown: set[tuple[str, str]] = set()

    def on_stats(stats_json: str) -> None:
        owned = {}
        for topic, details in json.loads(stats_json).get("topics", {}).items():
            for partition, values in details.get("partitions", {}).items():
                lag = values.get("consumer_lag", -1)
                # "desired": assigned to this consumer by the group (false once revoked).
                if partition != "-1" and values.get("desired", True) and lag >= 0:
                    owned[(topic, partition)] = lag
        for labels in shown - owned.keys():
            gauge.remove(*labels)
        for labels, lag in owned.items():
            gauge.labels(*labels).set(lag)
        shown.clear()
        shown.update(owned)

    return on_stats
