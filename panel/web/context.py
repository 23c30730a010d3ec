"""What every request handler needs, built once by the composition root (``panel.bootstrap.create_app``)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from infra.runtime.rate_limits import RateLimiter

from panel.use_cases.ports import Gateway, StreamLeases
from panel.entrypoints.results_reader import ResultsConsumer
from panel.adapters.vault import CredentialVault
from panel.adapters.metrics import PanelMetrics
from panel.use_cases.hub import Hub
from panel.settings import Settings


@dataclass
class Panel:
    settings: Settings
    gateway: Gateway
    vault: CredentialVault
    hub: Hub
    consumer: ResultsConsumer | None
    metrics: PanelMetrics
    limiter: RateLimiter
    stream_leases: StreamLeases

    def shutdown(self) -> None:
        """End the live streams and the consumer: the worker is stopping."""
        self.hub.close()
        if self.consumer is not None:
            self.consumer.stop(timeout=2)

    def shutdown_async(self) -> None:
        """The same without waiting: safe inside a signal handler."""
        self.hub.close()
        if self.consumer is not None:
            self.consumer.request_stop()

    def is_ready(self) -> bool:
        return self.consumer is None or self.consumer.ready.is_set()


def panel() -> Panel:
    return current_app.extensions["panel"]
