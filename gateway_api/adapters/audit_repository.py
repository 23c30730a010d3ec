"""The audit trail's table: entries are only ever inserted (no update, no delete in this module)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from gateway_api.adapters.tables import audit_events
from gateway_api.domain.audit import GENESIS, AuditEntry, ChainHead
from gateway_api.domain.errors import InvalidParameter
from gateway_api.use_cases.ports import AuditLog

APPEND_ATTEMPTS = 20
# After each lost race, a random pause of up to 2 ms, doubled each time, at most 50 ms: writers that
# lost together do not all come back together (20 immediate attempts once ran out under CI's load).
_FIRST_BACKOFF_SECONDS, _MAX_BACKOFF_SECONDS = 0.002, 0.05
_CHUNK = 1000


class SqlAuditLog(AuditLog):
    def __init__(self, engine: Engine):
        self._engine = engine
        self._appending = threading.Lock()  # this process's writers take turns; processes race

    def append(self, build: Callable[[ChainHead], AuditEntry]) -> AuditEntry:
        """Two writers that read the same head both try its next sequence number: the primary key
        lets one in, the other builds again on the new head. Within a process they take turns, so
        only writers of different processes (gunicorn workers, the CLI) ever race."""
        with self._appending:
            for attempt in range(APPEND_ATTEMPTS):
                try:
                    with self._engine.begin() as connection:
                        entry = build(_head(connection))
                        connection.execute(audit_events.insert().values(**vars(entry)))
                    return entry
                except IntegrityError:
                    time.sleep(random.uniform(0, min(_MAX_BACKOFF_SECONDS, _FIRST_BACKOFF_SECONDS * 2**attempt)))
        raise RuntimeError(f"the audit trail stayed contended for {APPEND_ATTEMPTS} attempts")

    def page(self, account_id: str | None, limit: int, starting_after: str | None) -> tuple[list[AuditEntry], bool]:
        conditions = [] if account_id is None else [audit_events.c.account_id == account_id]
        with self._engine.connect() as connection:
            if starting_after:
                conditions.append(audit_events.c.seq < _cursor(connection, starting_after, account_id))
            rows = connection.execute(
                select(audit_events).where(*conditions).order_by(audit_events.c.seq.desc()).limit(limit + 1)
            ).all()
        return [_entry(row) for row in rows[:limit]], len(rows) > limit

    def chain(self) -> Iterator[AuditEntry]:
        after = 0
        while True:
            with self._engine.connect() as connection:
                rows = connection.execute(
                    select(audit_events).where(audit_events.c.seq > after).order_by(audit_events.c.seq).limit(_CHUNK)
                ).all()
            yield from (_entry(row) for row in rows)
            if len(rows) < _CHUNK:
                return
            after = rows[-1].seq

    def head(self) -> ChainHead:
        with self._engine.connect() as connection:
            return _head(connection)


def _head(connection) -> ChainHead:
    row = connection.execute(
        select(audit_events.c.seq, audit_events.c.hash).order_by(audit_events.c.seq.desc()).limit(1)
    ).first()
    return ChainHead(row.seq, row.hash) if row else GENESIS


def _cursor(connection, entry_id: str, account_id: str | None) -> int:
    conditions = [audit_events.c.id == entry_id]
    if account_id is not None:
        conditions.append(audit_events.c.account_id == account_id)
    seq = connection.execute(select(audit_events.c.seq).where(*conditions)).scalar()
    if seq is None:
        raise InvalidParameter("starting_after is not an item of this listing.", param="starting_after")
    return seq


def _entry(row) -> AuditEntry:
    return AuditEntry(**{name: getattr(row, name) for name in AuditEntry.__dataclass_fields__})
