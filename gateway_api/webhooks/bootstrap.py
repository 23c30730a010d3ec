"""Composition root of the webhook dispatcher."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from infra.db import build_engine, migrate

from gateway_api.adapters.delivery_queue import SqlDeliveryQueue
from gateway_api.adapters.dns import SystemResolver
from gateway_api.adapters.secret_box import AesGcmSecretBox
from gateway_api.adapters.webhook_http import HttpWebhookSender
from gateway_api.migrations import SCRIPT_LOCATION as MIGRATIONS
from gateway_api.use_cases.deliver_webhooks import DeliverWebhooks
from gateway_api.webhooks.runner import Dispatcher
from gateway_api.webhooks.settings import Settings


def utc_now() -> datetime:
    """Naive UTC, as the ledger stores it."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def bootstrap(settings: Settings, sender: HttpWebhookSender | None = None) -> Dispatcher:
    """A dispatcher reading the ledger database's deliveries; run it with a stop event."""
    engine = build_engine(settings.database_url)
    if settings.auto_migrate:
        migrate(settings.database_url, MIGRATIONS)
    queue = SqlDeliveryQueue(engine)
    sender = sender or HttpWebhookSender(SystemResolver(), settings.allow_private_urls)
    deliver = DeliverWebhooks(queue, sender, AesGcmSecretBox(settings.secrets_key), settings.retry_schedule, utc_now,
                              timedelta(seconds=settings.lease_seconds), settings.timeout_seconds)
    return Dispatcher(deliver, queue, settings, utc_now)
