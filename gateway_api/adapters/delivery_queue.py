"""The deliveries table as a work queue shared by every dispatcher replica, on SQLite and MySQL.

Claiming is a lease: a conditional UPDATE sets ``lock_token`` and ``locked_until`` on due rows that
nobody holds (or whose lease ran out). MySQL/MariaDB pick the rows with ``SELECT ... FOR UPDATE SKIP
LOCKED``, so replicas claiming at the same moment take different rows instead of waiting on each
other; SQLite runs the whole claim as one UPDATE, serialized by its write lock. Writing an outcome
requires the lease token, so a dispatcher whose lease expired cannot overwrite the next owner's.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, Integer, and_, bindparam, delete, exists, func, or_, select, update

from infra.runtime.sql import PreparedStatement

from gateway_api.adapters.sql import JoinedUpdate
from gateway_api.adapters.tables import events, webhook_attempts
from gateway_api.adapters.tables import webhook_deliveries as d
from gateway_api.adapters.tables import webhook_endpoints as ep
from gateway_api.domain.deliveries import CANCELED, DELIVERED, PENDING, Attempt
from gateway_api.domain.webhook_endpoints import STATUS_ENABLED
from gateway_api.use_cases.ports import AttemptRecord, ClaimedDelivery, DeliveryQueue, QueueStats

_CLAIMED_COLUMNS = (
    d.c.id,
    d.c.lock_token,
    d.c.attempts,
    d.c.event_id,
    events.c.type,
    events.c.created_at,
    events.c.payload,
    ep.c.id.label("endpoint_id"),
    ep.c.url,
    ep.c.status.label("endpoint_status"),
    ep.c.secret_ciphertext,
    ep.c.failing_since,
    d.c.locked_until,
)


class SqlDeliveryQueue(DeliveryQueue):
    def __init__(self, engine: Engine):
        self._engine = engine
        self._insert_attempts = PreparedStatement(_INSERT_ATTEMPTS, engine.dialect)
        self._write_outcomes = PreparedStatement(_OUTCOME_UPDATE, engine.dialect)

    def claim(self, limit: int, now: datetime, lease: timedelta) -> list[ClaimedDelivery]:
        with self._engine.begin() as connection:
            return self._claim(connection, limit, now, lease)

    def record(self, records: Sequence[AttemptRecord]) -> None:
        with self._engine.begin() as connection:
            self._record(connection, records)

    def exchange(
        self, records: Sequence[AttemptRecord], limit: int, now: datetime, lease: timedelta
    ) -> list[ClaimedDelivery]:
        with self._engine.begin() as connection:
            if records:
                self._record(connection, records)
            return self._claim(connection, limit, now, lease) if limit > 0 else []

    def _claim(self, connection, limit: int, now: datetime, lease: timedelta) -> list[ClaimedDelivery]:
        token = secrets.token_hex(16)
        values = {"now": now, "n": limit, "token": token, "until": now + lease}
        if connection.dialect.name == "sqlite":
            connection.execute(_CLAIM_IN_ONE_UPDATE, values)
        else:
            ids = connection.execute(_DUE_IDS_SKIP_LOCKED, values).scalars().all()
            if not ids:
                return []
            connection.execute(_CLAIM_IDS, values | {"ids": ids})
        return [_claimed(row) for row in connection.execute(_CLAIMED, {"token": token})]

    def _record(self, connection, records: Sequence[AttemptRecord]) -> None:
        records = [record for record in records if record.transition is not None]  # None: not ours any more
        self._insert_attempts.execute_many(
            connection, [_attempt_row(r.attempt) for r in records if r.attempt is not None]
        )
        outcomes = [_outcome_values(record) for record in records]
        if connection.dialect.name == "sqlite":
            self._write_outcomes.execute_many(connection, outcomes)
        else:
            _OUTCOME_JOINED.execute(connection, outcomes)
        self._track_failing_endpoints(connection, records)

    def release(self, claimed: Sequence[ClaimedDelivery]) -> None:
        with self._engine.begin() as connection:
            connection.execute(_RELEASE, [{"b_id": c.delivery_id, "b_token": c.lock_token} for c in claimed])

    def stats(self, now: datetime) -> QueueStats:
        pending = d.c.status == PENDING
        with self._engine.connect() as connection:
            due, oldest = connection.execute(
                select(func.count(), func.min(d.c.next_attempt_at)).where(pending, d.c.next_attempt_at <= now)
            ).one()
            retries = connection.execute(select(func.count()).where(pending, d.c.next_attempt_at > now)).scalar_one()
            failing, since = connection.execute(
                select(func.count(), func.min(ep.c.failing_since)).where(
                    ep.c.status == STATUS_ENABLED, ep.c.failing_since.is_not(None)
                )
            ).one()
        return QueueStats(due, _seconds_since(oldest, now), retries, failing, _seconds_since(since, now))

    def purge(self, before: datetime, batch: int = 500) -> int:
        """Old events go with their log, unless a delivery of theirs is still pending (a late resend)."""
        purged = 0
        while True:
            with self._engine.begin() as connection:
                still_pending = exists().where(d.c.event_id == events.c.id, d.c.status == PENDING)
                ids = (
                    connection.execute(
                        select(events.c.id).where(events.c.created_at < before, ~still_pending).limit(batch)
                    )
                    .scalars()
                    .all()
                )
                if not ids:
                    return purged
                delivery_ids = select(d.c.id).where(d.c.event_id.in_(ids))
                connection.execute(delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(delivery_ids)))
                connection.execute(delete(d).where(d.c.event_id.in_(ids)))
                connection.execute(delete(events).where(events.c.id.in_(ids)))
            purged += len(ids)

    @staticmethod
    def _track_failing_endpoints(connection, records: Sequence[AttemptRecord]) -> None:
        """``failing_since``: the first failure since the endpoint's last success (for alerting)."""
        attempted = [(r.claimed, r.attempt) for r in records if r.attempt is not None]
        delivered = {claimed.endpoint_id for claimed, attempt in attempted if attempt.result.delivered}
        # Only changes are written: endpoints are looked at as they were when claimed.
        recovered = {
            claimed.endpoint_id
            for claimed, attempt in attempted
            if attempt.result.delivered and claimed.endpoint_failing
        }
        failed = {
            claimed.endpoint_id: attempt.attempted_at
            for claimed, attempt in attempted
            if not attempt.result.delivered and not claimed.endpoint_failing and claimed.endpoint_id not in delivered
        }
        if recovered:
            connection.execute(_RECOVERED, {"ids": sorted(recovered)})
        if failed:
            connection.execute(_FAILING, {"ids": sorted(failed), "at": min(failed.values())})


# Built once: a claim and an outcome write run several times a second, and building SQLAlchemy
# statements anew each time cost more CPU than sending the webhooks.
_NOW = bindparam("now", type_=d.c.next_attempt_at.type)
_DUE = and_(
    d.c.status == PENDING, d.c.next_attempt_at <= _NOW, or_(d.c.locked_until.is_(None), d.c.locked_until <= _NOW)
)
_DUE_IDS = select(d.c.id).where(_DUE).order_by(d.c.next_attempt_at).limit(bindparam("n", type_=Integer))
_LEASE = {"lock_token": bindparam("token"), "locked_until": bindparam("until", type_=d.c.locked_until.type)}
_CLAIM_IN_ONE_UPDATE = update(d).where(d.c.id.in_(_DUE_IDS)).values(_LEASE)
_DUE_IDS_SKIP_LOCKED = _DUE_IDS.with_for_update(skip_locked=True)
_CLAIM_IDS = update(d).where(d.c.id.in_(bindparam("ids", expanding=True)), _DUE).values(_LEASE)
_CLAIMED = (
    select(*_CLAIMED_COLUMNS)
    .join(events, events.c.id == d.c.event_id)
    .join(ep, ep.c.id == d.c.endpoint_id)
    .where(d.c.lock_token == bindparam("token"))
)
_ENDPOINTS = ep.c.id.in_(bindparam("ids", expanding=True))
_RECOVERED = update(ep).where(_ENDPOINTS, ep.c.failing_since.is_not(None)).values(failing_since=None)
_FAILING = (
    update(ep)
    .where(_ENDPOINTS, ep.c.failing_since.is_(None))
    .values(failing_since=bindparam("at", type_=ep.c.failing_since.type))
)
_RELEASE = (
    update(d)
    .where(d.c.id == bindparam("b_id"), d.c.lock_token == bindparam("b_token"))
    .values(lock_token=None, locked_until=None)
)
_INSERT_ATTEMPTS = webhook_attempts.insert().values(
    {
        name: bindparam(name)
        for name in (
            "delivery_id",
            "number",
            "attempted_at",
            "duration_ms",
            "outcome",
            "http_status",
            "error",
            "response_body",
            "next_attempt_at",
        )
    }
)


# Only the lease holder moves a delivery on, and only while it is pending (a deleted endpoint's
# deliveries were canceled meanwhile and stay so).
_OUTCOME_UPDATE = (
    update(d)
    .where(d.c.id == bindparam("b_id"), d.c.lock_token == bindparam("b_token"), d.c.status == PENDING)
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        next_attempt_at=bindparam("b_next"),
        locked_until=None,
        lock_token=None,
        last_attempt_at=bindparam("b_at"),
        last_http_status=bindparam("b_http"),
        last_error=bindparam("b_error"),
    )
)


# MySQL/MariaDB: the same in one statement (see JoinedUpdate).
_OUTCOME_JOINED = JoinedUpdate(
    d,
    match={"id": "b_id", "lock_token": "b_token"},
    assign={
        "status": "b_status",
        "attempts": "b_attempts",
        "next_attempt_at": "b_next",
        "locked_until": None,
        "lock_token": None,
        "last_attempt_at": "b_at",
        "last_http_status": "b_http",
        "last_error": "b_error",
    },
    where="t.status = 'pending'",
)


def _outcome_values(record: AttemptRecord) -> dict:
    attempt, claimed, transition = record.attempt, record.claimed, record.transition
    assert transition is not None, "_record keeps only the records that have one"
    if attempt is None:
        return {
            "b_id": claimed.delivery_id,
            "b_token": claimed.lock_token,
            "b_status": CANCELED,
            "b_attempts": claimed.attempts_made,
            "b_next": None,
            "b_at": None,
            "b_http": None,
            "b_error": "the endpoint was deleted",
        }
    result = attempt.result
    return {
        "b_id": claimed.delivery_id,
        "b_token": claimed.lock_token,
        "b_status": transition.status,
        "b_attempts": attempt.number,
        "b_next": transition.next_attempt_at,
        "b_at": attempt.attempted_at,
        "b_http": result.http_status,
        "b_error": None if transition.status == DELIVERED else result.error,
    }


def _attempt_row(attempt: Attempt) -> dict:
    result = attempt.result
    return {
        "delivery_id": attempt.delivery_id,
        "number": attempt.number,
        "attempted_at": attempt.attempted_at,
        "duration_ms": round(result.duration_s * 1000),
        "outcome": result.outcome,
        "http_status": result.http_status,
        "error": result.error,
        "response_body": result.response_body,
        "next_attempt_at": attempt.next_attempt_at,
    }


def _claimed(row) -> ClaimedDelivery:
    """Never raises on what a row holds: a delivery that cannot be sent fails its attempts and ends."""
    payload = (row.payload or "").encode("utf-8", "replace")
    return ClaimedDelivery(
        row.id,
        row.lock_token,
        row.attempts,
        row.event_id,
        row.type,
        row.created_at,
        payload,
        row.endpoint_id,
        row.url or "",
        row.endpoint_status == STATUS_ENABLED,
        row.secret_ciphertext,
        row.failing_since is not None,
        row.locked_until,
    )


def _seconds_since(moment: datetime | None, now: datetime) -> float:
    return max((now - moment).total_seconds(), 0.0) if moment else 0.0
