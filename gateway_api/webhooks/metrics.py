"""The dispatcher's metrics. Queue gauges are read from the database, so every replica reports the
same values: aggregate them with max(), not sum()."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from infra.metrics import END_TO_END_BUCKETS, LATENCY_BUCKETS

from gateway_api.domain.deliveries import CANCELED, DELIVERED, FAILED, OUTCOMES

ATTEMPTS = Counter("gateway_webhooks_attempts_total", "Delivery attempts by outcome", ["outcome"])
DELIVERIES = Counter("gateway_webhooks_deliveries_total", "Deliveries that ended: delivered, failed or canceled",
                     ["status"])
ATTEMPT_DURATION = Histogram("gateway_webhooks_attempt_duration_seconds", "One POST to an endpoint, until its answer",
                             buckets=LATENCY_BUCKETS)
DELIVERY_LATENCY = Histogram("gateway_webhooks_delivery_latency_seconds",
                             "From the event being recorded to its delivery (a 2xx)", buckets=END_TO_END_BUCKETS)
BACKLOG = Gauge("gateway_webhooks_backlog", "Pending deliveries whose time has come (being sent or waiting)")
BACKLOG_AGE = Gauge("gateway_webhooks_backlog_age_seconds", "How long the oldest due delivery has been waiting")
SCHEDULED_RETRIES = Gauge("gateway_webhooks_scheduled_retries", "Pending deliveries waiting for a later retry")
FAILING_ENDPOINTS = Gauge("gateway_webhooks_failing_endpoints", "Enabled endpoints failing since their last success")
LONGEST_FAILING = Gauge("gateway_webhooks_longest_failing_endpoint_seconds",
                        "How long the longest-failing enabled endpoint has failed every attempt")

# Every label value exists from the start (rate() then sees the first increment after a restart),
# and is looked up once, not per delivery.
ATTEMPTS_BY_OUTCOME = {outcome: ATTEMPTS.labels(outcome) for outcome in OUTCOMES}
DELIVERIES_BY_STATUS = {status: DELIVERIES.labels(status) for status in (DELIVERED, FAILED, CANCELED)}
