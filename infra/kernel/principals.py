"""Who is calling, the same in every service, and which accounts they may see.

The API finds the principal from the credential (``gateway_api.web.auth``); the panel from the
API's ``GET /v1/me`` (``panel.adapters.gateway``). Standard library only: domain code may use it.
"""

from __future__ import annotations

from dataclasses import dataclass

MERCHANT = "merchant"
ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    kind: str  # MERCHANT or ADMIN
    account_id: str = ""  # the merchant's own account; empty for the operator
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
