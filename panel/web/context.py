"""What every request handler needs, built once by the composition root (``panel.bootstrap.create_app``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from flask import current_app

from infra.runtime.rate_limits import RateLimiter

from panel.adapters.metrics import PanelMetrics
from panel.adapters.vault import CredentialVault
from panel.settings import Settings
from panel.use_cases.hub import Hub
from panel.use_cases.ports import Gateway, StreamLeases


class Reader(Protocol):
    """What the web side needs of the results reader ``create_app`` starts (``panel.entrypoints.results_reader``,
    which the web never imports): whether it reads yet, and how to stop it."""

    ready: threading.Event

    def stop(self, timeout: float = 5) -> None: ...

    def request_stop(self) -> None: ...


@dataclass
class Panel:
    settings: Settings
    gateway: Gateway
    vault: CredentialVault
    hub: Hub
    reader: Reader | None
    metrics: PanelMetrics
    limiter: RateLimiter
    stream_leases: StreamLeases

    def shutdown(self) -> None:
        """End the live streams and the results reader: the worker is stopping."""
        self.hub.close()
        if self.reader is not None:
            self.reader.stop(timeout=2)

    def shutdown_async(self) -> None:
        """The same without waiting: safe inside a signal handler."""
        self.hub.close()
        if self.reader is not None:
            self.reader.request_stop()

    def is_ready(self) -> bool:
        return self.reader is None or self.reader.ready.is_set()


def panel() -> Panel:
    return current_app.extensions["panel"]
