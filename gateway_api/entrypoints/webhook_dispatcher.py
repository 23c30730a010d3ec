"""The webhook dispatcher (``python -m gateway_api.webhooks``) as the process runs it: its delivery loop,
once the ledger has this release's schema."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import Engine

from infra.runtime.health import Probes

from gateway_api.adapters.webhook_http import HttpWebhookSender
from gateway_api.entrypoints.delivery_loop import DeliveryLoop
from gateway_api.entrypoints.ledger_schema import wait_for_ledger_schema


@dataclass
class WebhookDispatcher:
    loop: DeliveryLoop
    engine: Engine
    sender: HttpWebhookSender
    probes: Probes

    def run(self, stop: threading.Event) -> None:
        """Wait for this release's ledger schema, then deliver until ``stop`` is set."""
        try:
            if wait_for_ledger_schema(self.engine, stop, self.loop.heartbeat):
                self.loop.run(stop)
        finally:
            self.sender.close()
            self.engine.dispose()
