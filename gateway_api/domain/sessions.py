"""Sessions of the live panel: a revocable, read-only stand-in for a merchant's or the operator's credential.

The panel signs a person in with their real credential once, opens a session and from then on
presents only the session token. A session is worth nothing once it is ended (sign-out), once it
expires, or once the credential it was opened with stops working: the merchant's secret rotated or
the account disabled, or the admin token changed. Only HMAC(pepper, token) is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

TOKEN_PREFIX = "sess_"
MAX_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class Session:
    token_hash: str = field(repr=False)
    kind: str  # "merchant" or "admin"
    account_id: str | None
    # What the credential was when the session opened: the account's secret hash, or HMAC of the
    # admin token. When it no longer matches, the credential changed and the session is void.
    credential_hash: str = field(repr=False)
    created_at: datetime
    expires_at: datetime
    revoked: bool = False

    def live(self, now: datetime) -> bool:
        return not self.revoked and now < self.expires_at


@dataclass(frozen=True)
class IssuedSession:
    """The only moment the plain token exists: returned to the caller, never stored."""

    session: Session
    token: str = field(repr=False)


def new_session_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)
