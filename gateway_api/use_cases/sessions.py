"""Opening, checking and ending panel sessions (see ``gateway_api.domain.sessions``)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway_api.domain.accounts import Account, SecretHasher
from gateway_api.domain.sessions import MAX_TTL, TOKEN_PREFIX, IssuedSession, Session, new_session_token
from gateway_api.use_cases.ports import AccountRepository, SessionStore

MERCHANT, ADMIN = "merchant", "admin"


@dataclass(frozen=True)
class SessionHolder:
    session: Session
    account: Account | None  # the merchant's account, None for the operator


class Sessions:
    def __init__(self, store: SessionStore, accounts: AccountRepository, hasher: SecretHasher, admin_token: str,
                 now: Callable[[], datetime]):
        self._store = store
        self._accounts = accounts
        self._hasher = hasher
        self._admin_credential = hasher.hash(admin_token)
        self._now = now

    def open(self, account: Account | None, ttl: timedelta) -> IssuedSession:
        """A session for this merchant account, or for the operator when ``account`` is None."""
        now = self._now()
        self._store.purge_expired(before=now)
        token = new_session_token()
        kind, credential = (ADMIN, self._admin_credential) if account is None else (MERCHANT, account.secret_hash)
        session = Session(self._hasher.hash(token), kind, account.id if account else None, credential, now,
                          now + min(ttl, MAX_TTL))
        self._store.add(session)
        return IssuedSession(session, token)

    def authenticate(self, token: str) -> SessionHolder | None:
        """The live session this token opened, while its credential still works; else None."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        session = self._store.get(self._hasher.hash(token))
        if session is None or not session.live(self._now()):
            return None
        if session.kind == ADMIN:
            return SessionHolder(session, None) if session.credential_hash == self._admin_credential else None
        account = self._accounts.get(session.account_id or "")
        if account is None or account.disabled or account.secret_hash != session.credential_hash:
            return None
        return SessionHolder(session, account)

    def end(self, session: Session) -> None:
        self._store.revoke(session.token_hash)
