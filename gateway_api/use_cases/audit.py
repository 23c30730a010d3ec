"""Recording configuration changes in the audit trail, reading it, and verifying its chain.

One call records one change: ``audit.record(AuditRecord(actor, action, object_type, object_id,
origin, outcome, account_id))``. The web layer builds the actor and origin from the request
(``gateway_api.web.audit``); a refund (issue 24) is one more such call.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime

from infra.kernel.identifiers import loggable

from gateway_api.domain.audit import AuditEntry, AuditRecord, ChainHead, Verification, entry_hash, verify_chain
from gateway_api.use_cases.ports import AuditLog

log = logging.getLogger(__name__)


def new_audit_id() -> str:
    return loggable(lambda: "aud_" + secrets.token_hex(12))


class AuditTrail:
    def __init__(self, log_: AuditLog, key: bytes, now: Callable[[], datetime]):
        if len(key) < 32:
            raise ValueError("the audit HMAC key must be at least 32 bytes")
        self._log = log_
        self._key = key
        self._now = now

    def record(self, record: AuditRecord) -> AuditEntry:
        entry = self._log.append(lambda head: self._chained(record, head))
        log.info(
            "audit",
            extra={
                "audit_seq": entry.seq,
                "action": entry.action,
                "actor": entry.actor,
                "object_id": entry.object_id,
                "outcome": entry.outcome,
            },
        )
        return entry

    def _chained(self, record: AuditRecord, head: ChainHead) -> AuditEntry:
        actor = record.actor
        unsigned = AuditEntry(
            seq=head.seq + 1,
            id=new_audit_id(),
            at=self._now(),
            actor_kind=actor.kind,
            actor=actor.name[:200],
            credential=actor.credential,
            account_id=record.account_id or actor.account_id,
            action=record.action,
            object_type=record.object_type,
            object_id=record.object_id,
            request_id=record.origin.request_id,
            client_address=record.origin.client_address,
            outcome=record.outcome[:64],
            prev_hash=head.hash,
            hash="",
        )
        return AuditEntry(**{**vars(unsigned), "hash": entry_hash(self._key, unsigned)})

    def page(self, account_id: str | None, limit: int, starting_after: str | None) -> tuple[list[AuditEntry], bool]:
        return self._log.page(account_id, limit, starting_after)

    def head(self) -> ChainHead:
        return self._log.head()

    def verify(self, head: ChainHead | None = None) -> Verification:
        return verify_chain(self._key, self._log.chain(), head)


class AuditWatch:
    """The periodic check: verifies the whole chain against the head it verified last time (so entries
    removed from the end are caught too), exports and logs the head, and says loudly when it breaks.
    ``report(seq, hash, valid, first_bad, at)`` sets the metrics."""

    def __init__(self, trail: AuditTrail, report: Callable[..., None], clock: Callable[[], float] = time.time):
        self._trail = trail
        self._report = report
        self._clock = clock
        self._last_good: ChainHead | None = None

    def check(self) -> Verification:
        result = self._trail.verify(self._last_good)
        if result.ok:
            self._last_good = result.head
            log.info("audit chain head", extra={"audit_head": str(result.head), "audit_entries": result.checked})
        else:
            log.error(
                "audit chain broken",
                extra={
                    "audit_first_bad": result.first_bad,
                    "problem": result.problem,
                    "audit_head": str(self._last_good or result.head),
                },
            )
        head = result.head if result.ok else (self._last_good or result.head)
        self._report(head.seq, head.hash, result.ok, result.first_bad, self._clock())
        return result

    def run(self, stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                self.check()
            except Exception:  # noqa: BLE001 - a database blip must not end the watch; the staleness alert covers it
                log.exception("audit chain check failed")
            stop.wait(interval)
