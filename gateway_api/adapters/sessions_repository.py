from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, select, update

from gateway_api.adapters.tables import sessions
from gateway_api.domain.sessions import Session
from gateway_api.use_cases.ports import SessionStore


class SqlSessions(SessionStore):
    def __init__(self, engine: Engine):
        self._engine = engine

    def add(self, session: Session) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                sessions.insert().values(
                    token_hash=session.token_hash,
                    kind=session.kind,
                    account_id=session.account_id,
                    credential_hash=session.credential_hash,
                    created_at=session.created_at,
                    expires_at=session.expires_at,
                    revoked=session.revoked,
                )
            )

    def get(self, token_hash: str) -> Session | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(sessions).where(sessions.c.token_hash == token_hash)).first()
        if row is None:
            return None
        return Session(
            row.token_hash,
            row.kind,
            row.account_id,
            row.credential_hash,
            row.created_at,
            row.expires_at,
            bool(row.revoked),
        )

    def revoke(self, token_hash: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(update(sessions).where(sessions.c.token_hash == token_hash).values(revoked=True))

    def purge_expired(self, before: datetime) -> None:
        with self._engine.begin() as connection:
            connection.execute(delete(sessions).where(sessions.c.expires_at < before))
