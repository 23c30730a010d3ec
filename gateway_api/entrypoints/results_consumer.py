"""The results consumer (``python -m gateway_api.results``) as the process runs it: the batch loop over
``transactions_result`` and ``refunds_result``, and beside it the idempotency-key purge, the
oldest-pending monitor and the audit chain's periodic check."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import Engine

from infra.runtime.consumer_loop import BatchConsumerLoop
from infra.runtime.health import Probes

from gateway_api.entrypoints.ledger_schema import wait_for_ledger_schema
from gateway_api.entrypoints.oldest_pending import OldestPending
from gateway_api.use_cases.audit import AuditWatch
from gateway_api.use_cases.purge_idempotency_keys import PurgeExpiredKeys, purge_periodically


@dataclass
class ResultsConsumer:
    loop: BatchConsumerLoop
    engine: Engine
    probes: Probes
    purge: PurgeExpiredKeys
    oldest_pending: OldestPending
    audit_watch: AuditWatch
    audit_check_seconds: float

    def run(self, stop: threading.Event) -> None:
        """Wait for the ledger schema of this release, then consume until ``stop`` is set; meanwhile
        purge expired idempotency keys (once the schema is there, then hourly) and keep the
        oldest-pending gauge current."""
        purger = threading.Thread(target=purge_periodically, args=(self.purge, stop), name="purge", daemon=True)
        try:
            wait_for_ledger_schema(self.engine, stop, self.loop.heartbeat)
            purger.start()
            threading.Thread(target=self.oldest_pending.run, args=(stop,), name="oldest-pending", daemon=True).start()
            threading.Thread(
                target=self.audit_watch.run, args=(stop, self.audit_check_seconds), name="audit-watch", daemon=True
            ).start()
            self.loop.run(stop)
        finally:
            stop.set()
            if purger.is_alive():
                purger.join(5)
            self.engine.dispose()
