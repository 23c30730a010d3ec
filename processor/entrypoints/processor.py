"""The processor's process: what ``build_processor`` returns and ``python -m processor`` runs."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy import Engine

from infra.runtime.consumer_loop import BatchConsumerLoop
from infra.runtime.db import wait_for_schema
from infra.runtime.health import Probes
from infra.runtime.kafka import AckedProducer

from processor.migrations import SCRIPT_LOCATION as MIGRATIONS
from processor.migrations import VERSION_TABLE

log = logging.getLogger(__name__)


@dataclass
class Processor:
    loop: BatchConsumerLoop
    producer: AckedProducer
    engine: Engine
    probes: Probes

    def run(self, stop: threading.Event) -> None:
        """Wait for the schema of this release, consume until ``stop`` is set, then release the
        broker and the database."""
        try:
            wait_for_schema(self.engine, MIGRATIONS, VERSION_TABLE, stop, on_wait=self.loop.heartbeat.beat)
            self.loop.run(stop)
        finally:
            self.producer.flush(2)
            self.engine.dispose()
            log.info("processor stopped")
