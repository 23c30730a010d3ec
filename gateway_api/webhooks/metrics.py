"""The dispatcher's metrics. Queue gauges are read from the database, so every replica reports the
same values: aggregate them with max(), not sum()."""
from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from infra.metrics import END_TO_END_BUCKETS, LATENCY_BUCKETS

from gateway_api.domain.deliveries import CANCELED, DELIVERED, FAILED, OUTCOMES


class WebhookMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY):
        attempts = Counter("gateway_webhooks_attempts_total", "Delivery attempts by outcome", ["outcome"],
                           registry=registry)
        deliveries = Counter("gateway_webhooks_deliveries_total",
                             "Deliveries that ended: delivered, failed or canceled", ["status"], registry=registry)
        # Every label value exists from the start (rate() then sees the first increment after a
        # restart), and is looked up once, not per delivery.
        self.attempts_by_outcome = {outcome: attempts.labels(outcome) for outcome in OUTCOMES}
        self.deliveries_by_status = {status: deliveries.labels(status) for status in (DELIVERED, FAILED, CANCELED)}
        self.attempt_duration = Histogram("gateway_webhooks_attempt_duration_seconds",
                                          "One POST to an endpoint, until its answer", buckets=LATENCY_BUCKETS,
                                          registry=registry)
        self.delivery_latency = Histogram("gateway_webhooks_delivery_latency_seconds",
                                          "From the event being recorded to its delivery (a 2xx)",
                                          buckets=END_TO_END_BUCKETS, registry=registry)
        self.backlog = Gauge("gateway_webhooks_backlog", "Pending deliveries whose time has come (being sent or waiting)",
                             registry=registry)
        self.backlog_age = Gauge("gateway_webhooks_backlog_age_seconds",
                                 "How long the oldest due delivery has been waiting", registry=registry)
        self.scheduled_retries = Gauge("gateway_webhooks_scheduled_retries",
                                       "Pending deliveries waiting for a later retry", registry=registry)
        self.failing_endpoints = Gauge("gateway_webhooks_failing_endpoints",
                                       "Enabled endpoints failing since their last success", registry=registry)
        self.longest_failing = Gauge("gateway_webhooks_longest_failing_endpoint_seconds",
                                     "How long the longest-failing enabled endpoint has failed every attempt",
                                     registry=registry)
