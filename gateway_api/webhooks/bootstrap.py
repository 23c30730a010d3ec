"""Composition root of the webhook dispatcher."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from infra.clock import utc_now
from infra.db import build_engine, migrate_if_enabled, wait_for_schema
from infra.health import Probes, schema_check
from infra.metrics import metrics_for

from gateway_api.adapters.delivery_queue import SqlDeliveryQueue
from gateway_api.adapters.dns import SystemResolver
from gateway_api.adapters.secret_box import AesGcmSecretBox
from gateway_api.adapters.webhook_http import HttpWebhookSender
from gateway_api.migrations import SCRIPT_LOCATION as MIGRATIONS, VERSION_TABLE
from gateway_api.use_cases.deliver_webhooks import DeliverWebhooks
from gateway_api.webhooks.metrics import WebhookMetrics
from gateway_api.adapters.webhook_dispatcher import Dispatcher
from gateway_api.webhooks.settings import Settings


@dataclass
class WebhookDispatcher:
    dispatcher: Dispatcher
    engine: Engine
    sender: HttpWebhookSender
    probes: Probes

    def run(self, stop: threading.Event) -> None:
        """Wait for this release's ledger schema, then deliver until ``stop`` is set."""
        try:
            if wait_for_schema(self.engine, MIGRATIONS, VERSION_TABLE, stop, on_wait=self.dispatcher.heartbeat.beat):
                self.dispatcher.run(stop)
        finally:
            self.sender.close()
            self.engine.dispose()


def bootstrap(settings: Settings) -> WebhookDispatcher:
    """A dispatcher over the ledger database's deliveries; run it with a stop event."""
    engine = build_engine(settings.database_url)
    migrate_if_enabled(settings, MIGRATIONS)
    queue = SqlDeliveryQueue(engine)
    sender = HttpWebhookSender(SystemResolver(), settings.allow_private_urls)
    deliver = DeliverWebhooks(queue, sender, AesGcmSecretBox(settings.secrets_key), settings.retry_schedule, utc_now,
                              timedelta(seconds=settings.lease_seconds), settings.timeout_seconds)
    dispatcher = Dispatcher(deliver, queue, settings, utc_now, metrics_for(WebhookMetrics))
    probes = Probes(dispatcher.heartbeat, settings.liveness_stall_seconds,
                    [schema_check(engine, MIGRATIONS, VERSION_TABLE)])
    return WebhookDispatcher(dispatcher, engine, sender, probes)
