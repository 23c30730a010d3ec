"""How the panel presents a signed-in person to the gateway API. Who they are, and which results they
may see, is the ``Principal`` every service shares (``infra.kernel.principals``)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from infra.kernel.principals import ADMIN, MERCHANT

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
