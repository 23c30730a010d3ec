"""The interfaces the use cases need; adapters implement them, unit tests fake them."""
from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from infra.contracts import TransactionResult

from gateway_api.domain.accounts import Account
from gateway_api.domain.idempotency import IdempotencyRecord
from gateway_api.domain.reports import DailyTotal
from gateway_api.domain.sessions import Session
from gateway_api.domain.transactions import Transaction


@dataclass(frozen=True)
class Page:
    items: list[Transaction]
    has_more: bool


@dataclass(frozen=True)
class ListQuery:
    account_id: str | None  # None: every merchant (admin)
    status: str | None = None
    limit: int = 20
    starting_after: str | None = None


class AccountRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, account: Account) -> None: ...

    @abc.abstractmethod
    def get(self, account_id: str) -> Account | None: ...

    @abc.abstractmethod
    def list(self) -> list[Account]: ...

    @abc.abstractmethod
    def set_secret_hash(self, account_id: str, secret_hash: str) -> None: ...

    @abc.abstractmethod
    def disable(self, account_id: str) -> None: ...


class LedgerRefused(Exception):
    """The database refused the data itself (too long, a constraint): retrying cannot help.

    Its text names the database's error class, never the values."""


class Ledger(abc.ABC):
    @abc.abstractmethod
    def add_pending(self, transaction: Transaction, answered_key: IdempotencyRecord | None = None) -> None:
        """Insert unless the id exists (a result may already have created it): never downgrades.

        ``answered_key`` is marked completed in the same DB transaction: from then on it replays.
        """

    @abc.abstractmethod
    def get(self, transaction_id: str) -> Transaction | None: ...

    @abc.abstractmethod
    def list(self, query: ListQuery) -> Page:
        """Newest first; raises ``NotFound`` if ``starting_after`` is not in the query's scope."""

    @abc.abstractmethod
    def apply_results(self, results: Sequence[TransactionResult]) -> None:
        """Record decisions in one DB transaction: idempotent, in any order, final status wins.

        Raises ``LedgerRefused`` when the database refuses the data (not when it is unreachable)."""

    @abc.abstractmethod
    def daily_totals(self, account_id: str | None, first: date, last: date) -> list[DailyTotal]: ...

    @abc.abstractmethod
    def oldest_pending_created_at(self) -> datetime | None:
        """When the oldest transaction still pending was created (naive UTC), or None."""


class IdempotencyStore(abc.ABC):
    @abc.abstractmethod
    def claim(self, candidate: IdempotencyRecord, expired_before: datetime) -> IdempotencyRecord:
        """Store ``candidate`` unless a live record holds the key; return the record that holds it.

        A record created before ``expired_before`` no longer holds its key and is replaced.
        Concurrent claims of one key all get the same winning record.
        """

    @abc.abstractmethod
    def purge(self, expired_before: datetime) -> int:
        """Delete the records created before ``expired_before``; return how many went."""


class SessionStore(abc.ABC):
    @abc.abstractmethod
    def add(self, session: Session) -> None: ...

    @abc.abstractmethod
    def get(self, token_hash: str) -> Session | None: ...

    @abc.abstractmethod
    def revoke(self, token_hash: str) -> None: ...

    @abc.abstractmethod
    def purge_expired(self, before: datetime) -> None:
        """Forget sessions that expired before ``before`` (revoked or not)."""


class TransactionPublisher(abc.ABC):
    @abc.abstractmethod
    def publish(self, key: str, message: dict, timeout: float) -> None:
        """Return once the broker acknowledged the message; raise ``BrokerUnavailable`` otherwise."""


class CardSealer(abc.ABC):
    @abc.abstractmethod
    def seal(self, card_fields: dict, transaction_id: str, account_id: str, amount: str) -> dict:
        """The card fields encrypted for this transaction: the message's ``card`` value."""
