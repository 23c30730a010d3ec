"""Who is signed in, how the gateway API recognises them, and which results they may see."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field

MERCHANT = "merchant"
ADMIN = "admin"
SESSION = "session"


@dataclass(frozen=True)
class Credential:
    """What the panel presents to the gateway API on the user's behalf; never shown in a repr."""

    kind: str
    account_id: str = ""
    secret: str = field(default="", repr=False)

    @classmethod
    def merchant(cls, account_id: str, secret: str) -> "Credential":
        return cls(MERCHANT, account_id, secret)

    @classmethod
    def admin(cls, token: str) -> "Credential":
        return cls(ADMIN, "", token)

    @classmethod
    def session(cls, token: str) -> "Credential":
        """A panel session token from the gateway API: what the panel keeps after sign-in."""
        return cls(SESSION, "", token)

    def authorization(self) -> str:
        if self.kind in (ADMIN, SESSION):
            return f"Bearer {self.secret}"
        pair = f"{self.account_id}:{self.secret}".encode()
        return "Basic " + base64.b64encode(pair).decode()


@dataclass(frozen=True)
class Principal:
    """A verified identity, as the gateway API's GET /v1/me described it."""

    kind: str
    account_id: str = ""
    name: str = ""

    @property
    def is_admin(self) -> bool:
        return self.kind == ADMIN

    def may_see(self, account_id: str | None) -> bool:
        """Merchants see their own account only; operators see every account."""
        return self.is_admin or (bool(account_id) and account_id == self.account_id)

    def scope(self, requested_account: str | None) -> str | None:
        """The account a view is restricted to: the merchant's own, or an operator's optional filter."""
        if self.is_admin:
            return requested_account or None
        return self.account_id
