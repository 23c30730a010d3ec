"""Prometheus helpers shared by the services: registries, the /metrics endpoint, Flask and Kafka hooks.

One style everywhere: a service's metrics are a class whose constructor takes the registry and
creates every metric as an attribute (``ProcessorMetrics(registry)``); the composition root builds
it with ``metrics_for`` and hands it to whatever records. No module-level metric objects: a metric
then exists only after gunicorn's config set PROMETHEUS_MULTIPROC_DIR, and tests can pass their own
registry.

Naming: one prefix per process (``gateway_api_``, ``processor_``, ``gateway_results_``,
``gateway_webhooks_``, ``panel_``), base units, ``_total`` counters and ``_seconds`` histograms. Labels
stay bounded: route templates, methods (the standard ones, anything else is ``other``: gunicorn
accepts any upper-case word as a method), registered status codes (any other is its class, ``4xx``:
the panel answers with the API's 4xx), transaction status and rejection reason; never a merchant id
or card data.

/metrics is never served on a service's public port: the gunicorn master of the API and of the panel
serves it on its own listener (``serve_metrics``, ``METRICS_PORT``), as the workers do, so neither the
ingress nor a published compose port reaches it.
Under gunicorn, PROMETHEUS_MULTIPROC_DIR must be set before prometheus_client is imported (the
gunicorn config does it) so that every worker's samples are aggregated.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import threading
from bisect import bisect_left
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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

from infra.runtime.process_id import use_for_multiprocess_metrics
from infra.runtime.process_metrics import update_this_worker

log = logging.getLogger(__name__)
use_for_multiprocess_metrics()  # before any service makes its metrics: no getpid() per sample

# RFC 9110 and RFC 5789: the only values the method label takes, besides "other".
STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
# The status label's values besides a class ("4xx") and "other": the registered statuses Python knows.
REGISTERED_STATUSES = frozenset(status.value for status in HTTPStatus)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
END_TO_END_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


def observe_all(histogram: Histogram, amounts: Iterable[float]) -> None:
    """``histogram.observe(amount)`` for each of many non-negative amounts (a consumer's batch),
    counted per bucket first: one increment per bucket touched instead of two locked ones per amount.

    It writes prometheus_client's Histogram state (``_upper_bounds``, ``_buckets``, ``_sum``, the
    layout since 0.4); tests/unit/infra/runtime/test_metrics.py compares the exposition with observe()'s.
    """
    bounds = histogram._upper_bounds  # ends with +Inf: every amount has a bucket
    counts = [0] * len(bounds)
    total = 0.0
    for amount in amounts:
        counts[bisect_left(bounds, amount)] += 1  # the first bound >= amount, as observe() picks
        total += amount
    histogram._raise_if_not_observable()
    histogram._sum.inc(total)
    for bucket, count in zip(histogram._buckets, counts):
        if count:
            bucket.inc(count)


def exposition() -> tuple[bytes, str]:
    """The body and content type of a /metrics response, aggregated across processes if needed."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        SettledFilesCollector(registry)
        # process_cpu_seconds_total and process_resident_memory_bytes: every worker's (process_metrics).
        update_this_worker()
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class SettledFilesCollector(multiprocess.MultiProcessCollector):
    """prometheus_client's MultiProcessCollector, minus two races that fail a whole scrape.

    * A worker creates its file empty and sizes it a moment later (``MmapedDict.__init__``): read in
      between, or left so by a worker killed in between, it fails every scrape with ``struct.error``
      (prometheus/client_python#1199). A file shorter than its 8-byte header holds no sample yet:
      it is skipped. A file only ever grows, so one long enough when listed stays readable.
    * ``child_exit`` removes a dead worker's live gauges: a file listed then removed is listed again.
    """

    def collect(self):
        for _ in range(2):
            try:
                return self.merge(_settled_files(self._path), accumulate=True)
            except FileNotFoundError:
                continue
        return self.merge(_settled_files(self._path), accumulate=True)  # a third time, or its error


def _settled_files(directory: str) -> list[str]:
    settled = []
    for path in glob.glob(os.path.join(directory, "*.db")):
        try:
            if os.path.getsize(path) >= _MMAP_HEADER_BYTES:
                settled.append(path)
        except FileNotFoundError:
            continue
    return settled


_MMAP_HEADER_BYTES = 8  # prometheus_client.mmap_dict: 4 bytes "used", 4 of padding


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
        self.requests = Counter(
            f"{prefix}_http_requests_total", "HTTP requests", ["route", "method", "status"], registry=registry
        )
        self.duration = Histogram(
            f"{prefix}_http_request_duration_seconds",
            "HTTP request duration",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    def observe(self, route: str, method: str, status: int, seconds: float | None) -> None:
        """One answered request; ``seconds`` None when it was answered before its clock started."""
        method = method_label(method)
        self.requests.labels(route, method, status_label(status)).inc()
        if seconds is not None:
            self.duration.labels(route, method).observe(seconds)


def method_label(method: str) -> str:
    return method if method in STANDARD_METHODS else "other"


def status_label(status: int) -> str:
    """The status itself when registered, else its class ("4xx"), else "other": a status can come from
    another process (the panel passes on the API's 4xx), and one series per made-up code is a leak."""
    if status in REGISTERED_STATUSES:
        return str(status)
    return f"{status // 100}xx" if 100 <= status <= 599 else "other"


def instrument_flask(app, prefix: str, registry: CollectorRegistry = REGISTRY) -> None:
    """Count and time every request by route template (never the raw path), method and status (both bounded)."""
    from flask import request

    from infra.runtime.request_timing import request_seconds, time_requests

    metrics = metrics_for(HttpMetrics, registry, prefix=prefix)
    time_requests(app)

    @app.after_request
    def _record(response):
        route = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.observe(route, request.method, response.status_code, request_seconds())
        return response


def serve_metrics(port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer | None:
    """GET /metrics (``exposition``: every gunicorn worker's samples) on a listener of its own, on a
    daemon thread; ``port`` 0 serves nothing. Raises ``OSError`` when the port is taken."""
    if port <= 0:
        return None
    server = ThreadingHTTPServer((host, port), _MetricsHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    log.info("serving /metrics", extra={"port": port})
    return server


class _MetricsHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the name http.server calls
        if self.path.split("?", 1)[0] != "/metrics":
            self._send(404, b"not found\n", "text/plain")
            return
        try:
            body, content_type = exposition()
        except Exception:  # a scraper gets an answer it can count, never a dropped connection
            log.exception("could not build /metrics")
            self._send(500, b"metrics unavailable: see the service log\n", "text/plain")
            return
        self._send(200, body, content_type)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):  # scraped every few seconds: not worth a log line each
        pass


def offset_gaps_counter(prefix: str, registry: CollectorRegistry = REGISTRY) -> Counter:
    """``<prefix>_offset_gaps_accepted_total``: records a consumer gave up waiting for (infra.runtime.offset_gaps).

    Unlabelled, so it is exported at 0 from the start and an alert's increase() sees the first one.
    """
    return Counter(
        f"{prefix}_offset_gaps_accepted_total",
        "Offset gaps given up on: records this consumer never read (see infra/runtime/offset_gaps.py)",
        registry=registry,
    )


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
