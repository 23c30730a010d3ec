"""Opening, checking and ending panel sessions (see ``gateway_api.domain.sessions``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway_api.domain.accounts import Account, SecretHasher
from gateway_api.domain.operators import BOOTSTRAP_NAME, Operator
from gateway_api.domain.sessions import MAX_TTL, TOKEN_PREFIX, IssuedSession, Session, new_session_token
from gateway_api.use_cases.ports import AccountRepository, OperatorRepository, SessionStore

MERCHANT, ADMIN = "merchant", "admin"


@dataclass(frozen=True)
class SessionHolder:
    session: Session
    account: Account | None  # the merchant's account, None for an operator
    operator_name: str = ""  # the operator's name (BOOTSTRAP_NAME for the admin token)


class Sessions:
    def __init__(
        self,
        store: SessionStore,
        accounts: AccountRepository,
        hasher: SecretHasher,
        admin_token: str,
        now: Callable[[], datetime],
        operators: OperatorRepository | None = None,
        admin_token_enabled: bool = True,
    ):
        self._store = store
        self._accounts = accounts
        self._hasher = hasher
        self._admin_credential = hasher.digest(admin_token)
        self._now = now
        self._operators = operators
        self._admin_token_enabled = admin_token_enabled

    def open(self, account: Account | None, ttl: timedelta, operator: Operator | None = None) -> IssuedSession:
        """A session for this merchant account, for this named operator, or (neither) for the bootstrap
        admin token. An operator's session holds the operator id where a merchant's holds the account."""
        now = self._now()
        self._store.purge_expired(before=now)
        token = new_session_token()
        if account is not None:
            kind, owner, credential = MERCHANT, account.id, account.secret_hash
        elif operator is not None:
            kind, owner, credential = ADMIN, operator.id, self._hasher.digest(operator.credential_hash)
        else:
            kind, owner, credential = ADMIN, None, self._admin_credential
        session = Session(self._hasher.digest(token), kind, owner, credential, now, now + min(ttl, MAX_TTL))
        self._store.add(session)
        return IssuedSession(session, token)

    def authenticate(self, token: str) -> SessionHolder | None:
        """The live session this token opened, while its credential still works; else None."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        session = self._store.get(self._hasher.digest(token))
        if session is None or not session.live(self._now()):
            return None
        if session.kind == ADMIN:
            return self._operator_session(session)
        account = self._accounts.get(session.account_id or "")
        if account is None or account.disabled or account.secret_hash != session.credential_hash:
            return None
        return SessionHolder(session, account)

    def _operator_session(self, session: Session) -> SessionHolder | None:
        """Void once the operator is disabled or expired or got a new credential (or the bootstrap
        token changed or was turned off)."""
        if session.account_id is None:
            valid = self._admin_token_enabled and session.credential_hash == self._admin_credential
            return SessionHolder(session, None, BOOTSTRAP_NAME) if valid else None
        operator = self._operators.get(session.account_id) if self._operators else None
        if operator is None or not operator.active(self._now()):
            return None
        if session.credential_hash != self._hasher.digest(operator.credential_hash):
            return None
        return SessionHolder(session, None, operator.name)

    def end(self, session: Session) -> None:
        self._store.revoke(session.token_hash)
