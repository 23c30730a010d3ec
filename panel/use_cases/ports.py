"""What the panel needs from the outside world, as abstract classes the adapters implement.

The gateway API is the panel's only source of truth (identities, transactions, reports, webhooks):
the web layer talks to this port and catches its refusals; ``panel.adapters.gateway`` is the HTTP
implementation. Live results reach the hub (``panel.use_cases.hub``) from the results reader (``panel.entrypoints.results_reader``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from infra.kernel.principals import Principal
from infra.runtime.errors import error_body

from panel.domain.credential import Credential


class GatewayRefused(Exception):
    """The gateway API answered with an error (``status``, ``body`` in the API's error format).

    Not the API's own ``GatewayError`` (the domain errors it raises inside): this is how the panel,
    as a client, receives one of those answers."""

    def __init__(self, status: int, body: dict):
        super().__init__(f"gateway answered {status}")
        self.status = status
        self.body = body


class NotAuthenticated(GatewayRefused):
    """The credential is wrong, rotated or disabled."""


class GatewayUnavailable(GatewayRefused):
    """The gateway could not be reached or failed; the panel answers 502 and says so."""

    def __init__(self, detail: str):
        super().__init__(
            502, error_body("api_error", "gateway_unavailable", "The gateway API is unavailable; try again shortly.")
        )
        self.detail = detail


@dataclass(frozen=True)
class CsvDocument:
    content: bytes
    content_type: str = field(default="text/csv; charset=utf-8")


class Gateway(ABC):
    """The gateway API, called on behalf of the signed-in person; refusals raise ``GatewayRefused``."""

    @abstractmethod
    def me(self, credential: Credential) -> Principal:
        """Who this credential is, as the API sees it right now (raises NotAuthenticated once void)."""

    @abstractmethod
    def open_session(
        self, credential: Credential, ttl_seconds: int, one_time_code: str | None = None
    ) -> tuple[Principal, Credential]:
        """Exchange the person's credential (and an operator's one-time code, when they require a
        second factor) for a revocable, read-only session token."""

    @abstractmethod
    def close_session(self, credential: Credential) -> None:
        """Sign-out: the session token stops working for every panel process at once."""

    @abstractmethod
    def get_json(self, credential: Credential, path: str, params: dict | None = None) -> dict:
        """A GET of the API, its JSON answer."""

    @abstractmethod
    def send_json(self, credential: Credential, method: str, path: str, body: dict | None = None) -> dict:
        """A POST or DELETE with the person's own credential (a panel session token can only read)."""

    @abstractmethod
    def get_csv(self, credential: Credential, path: str, params: dict | None = None) -> CsvDocument:
        """A GET of the API's CSV rendering of ``path``."""

    @abstractmethod
    def transaction_path(self, transaction_id: str) -> str:
        """The API path of one transaction (the id escaped)."""


class StreamLeases(ABC):
    """Who holds which live streams, shared by every panel process (``panel.adapters.stream_leases``):
    a lease lapses unless renewed, so a process that dies gives its streams back by itself."""

    @abstractmethod
    def acquire(self, holder: str, lease_id: str, cap: int, seconds: float) -> bool:
        """Take a lease for ``holder`` unless it already holds ``cap`` live ones."""

    @abstractmethod
    def renew(self, holder: str, lease_id: str, seconds: float) -> None: ...

    @abstractmethod
    def release(self, holder: str, lease_id: str) -> None: ...
