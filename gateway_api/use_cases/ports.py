"""The interfaces the use cases need; adapters implement them, unit tests fake them."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Generic, TypeVar

from infra.kernel.contracts import RefundResult, TransactionResult

from gateway_api.domain.accounts import Account
from gateway_api.domain.audit import AuditEntry, ChainHead
from gateway_api.domain.deliveries import Attempt, AttemptResult, Delivery, Transition
from gateway_api.domain.events import Event
from gateway_api.domain.idempotency import IdempotencyRecord
from gateway_api.domain.operators import Operator
from gateway_api.domain.refunds import Refund
from gateway_api.domain.reports import DailyTotal
from gateway_api.domain.sessions import Session
from gateway_api.domain.transactions import Transaction
from gateway_api.domain.webhook_endpoints import WebhookEndpoint


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
    created_after: datetime | None = None  # naive UTC, like the ledger's timestamps


class AccountRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, account: Account) -> None: ...

    @abc.abstractmethod
    def get(self, account_id: str) -> Account | None: ...

    @abc.abstractmethod
    def every_account(self) -> list[Account]: ...

    @abc.abstractmethod
    def set_secret_hash(self, account_id: str, secret_hash: str) -> None: ...

    @abc.abstractmethod
    def disable(self, account_id: str) -> None: ...

    @abc.abstractmethod
    def set_rate_limit(self, account_id: str, requests_per_second: int | None) -> None: ...


class LedgerRefused(Exception):
    """The database refused the data itself (too long, a constraint): retrying cannot help.

    Its text names the database's error class, never the values."""


class Ledger(abc.ABC):
    @abc.abstractmethod
    def add_pending(self, transaction: Transaction) -> None:
        """Insert unless the id exists (a result may already have created it): never downgrades.

        From then on a request with the transaction's idempotency key replays the 202."""

    @abc.abstractmethod
    def get(self, transaction_id: str) -> Transaction | None: ...

    @abc.abstractmethod
    def page(self, query: ListQuery) -> Page:
        """Newest first; raises ``NotFound`` if ``starting_after`` is not in the query's scope."""

    @abc.abstractmethod
    def daily_totals(self, account_id: str | None, first: date, last: date) -> list[DailyTotal]: ...

    @abc.abstractmethod
    def oldest_pending_created_at(self) -> datetime | None:
        """When the oldest transaction still pending was created (naive UTC), or None."""


Result = TypeVar("Result", TransactionResult, RefundResult)
Row = TypeVar("Row", Transaction, Refund)


class DecisionBatch(abc.ABC, Generic[Result, Row]):
    """One DB transaction of the ledger, in which ``ApplyResults`` (or ``ApplyRefundResults``) applies a batch."""

    @abc.abstractmethod
    def decide(self, results: Sequence[Result]) -> list[Row]:
        """Make each result's row final while it is pending (``domain.results.may_decide``), creating the
        rows the API never wrote, in set-based writes; one result per id.

        Returns the rows these writes made final, as they now are: not those found final, nor those
        another applier decided meanwhile."""

    @abc.abstractmethod
    def record_events(self, decided: Sequence[Row]) -> None:
        """One event per row, with a first webhook delivery per subscribed endpoint (the outbox)."""


class ResultLedger(abc.ABC, Generic[Result, Row]):
    """The ledger as the results consumer writes it."""

    @abc.abstractmethod
    def deciding(self) -> AbstractContextManager[DecisionBatch[Result, Row]]:
        """A DB transaction: committed when the block ends, rolled back when it raises.

        Raises ``LedgerRefused`` when the database refuses the data (not when it is unreachable)."""


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


# --- webhooks ---------------------------------------------------------------------------------------


class SecretCipher(abc.ABC):
    """Encrypts secrets that must be readable again (to sign with), bound to what they belong to."""

    @abc.abstractmethod
    def encrypt(self, plaintext: str, context: str) -> str: ...

    @abc.abstractmethod
    def decrypt(self, token: str, context: str) -> str:
        """Raise ``ValueError`` when the token was not made for ``context`` or was tampered with."""


class HostResolver(abc.ABC):
    @abc.abstractmethod
    def resolve(self, host: str, port: int) -> list[str]:
        """Every address ``host`` resolves to; raise ``LookupError`` when it does not resolve."""


class WebhookEndpointRepository(abc.ABC):
    @abc.abstractmethod
    def add_within_limit(self, endpoint: WebhookEndpoint, secret_token: str, limit: int) -> bool:
        """Store the endpoint unless its merchant already has ``limit`` (atomic); False if it had."""

    @abc.abstractmethod
    def endpoints_of(self, account_id: str) -> list[WebhookEndpoint]:
        """The merchant's endpoints that are not deleted, oldest first."""

    @abc.abstractmethod
    def get(self, account_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        """The merchant's endpoint (None for another merchant's, or a deleted one)."""

    @abc.abstractmethod
    def delete(self, account_id: str, endpoint_id: str) -> None:
        """Mark it deleted and cancel its pending deliveries; its delivery log stays."""

    @abc.abstractmethod
    def set_secret(self, account_id: str, endpoint_id: str, secret_token: str) -> None: ...


@dataclass(frozen=True)
class EventQuery:
    account_id: str
    type: str | None = None
    limit: int = 20
    starting_after: str | None = None


@dataclass(frozen=True)
class EventPage:
    items: list[Event]
    has_more: bool


@dataclass(frozen=True)
class DeliveryQuery:
    account_id: str
    status: str | None = None
    endpoint_id: str | None = None
    limit: int = 20
    starting_after: str | None = None


@dataclass(frozen=True)
class DeliveryPage:
    items: list[Delivery]
    has_more: bool


class EventRepository(abc.ABC):
    @abc.abstractmethod
    def page(self, query: EventQuery) -> EventPage:
        """Newest first; raises ``InvalidParameter`` if ``starting_after`` is not in the query's scope."""

    @abc.abstractmethod
    def get(self, account_id: str, event_id: str) -> Event | None: ...

    @abc.abstractmethod
    def deliveries(self, account_id: str, event_id: str) -> list[Delivery]:
        """Every delivery of the event, oldest first, each with its attempts (``history``)."""

    @abc.abstractmethod
    def recent_deliveries(self, query: DeliveryQuery) -> DeliveryPage:
        """Newest first, without ``history``."""

    @abc.abstractmethod
    def add_deliveries(self, deliveries: Sequence[Delivery]) -> None: ...


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery this dispatcher holds the lease of, with what it needs to send it."""

    delivery_id: str
    lock_token: str
    attempts_made: int
    event_id: str
    event_type: str
    event_created_at: datetime
    payload: bytes = field(repr=False)
    endpoint_id: str = ""
    endpoint_url: str = ""
    endpoint_enabled: bool = True
    secret_token: str = field(default="", repr=False)
    endpoint_failing: bool = False  # its deliveries failed since its last success (when claimed)
    lease_until: datetime | None = None


@dataclass(frozen=True)
class AttemptRecord:
    """What to write back for a claimed delivery: the attempt (None if it was not sent) and where
    the delivery goes (None: nowhere, its lease ran out before it could be sent safely)."""

    claimed: ClaimedDelivery
    attempt: Attempt | None
    transition: Transition | None


@dataclass(frozen=True)
class QueueStats:
    due: int  # pending deliveries whose time has come
    oldest_due_seconds: float  # how long the oldest of them has been waiting
    scheduled_retries: int  # pending deliveries waiting for a later retry
    failing_endpoints: int  # enabled endpoints whose deliveries fail since their last success
    longest_failing_seconds: float


class DeliveryQueue(abc.ABC):
    @abc.abstractmethod
    def claim(self, limit: int, now: datetime, lease: timedelta) -> list[ClaimedDelivery]:
        """Lease up to ``limit`` due deliveries until ``now + lease``; no two claimers get the same one."""

    @abc.abstractmethod
    def record(self, records: Sequence[AttemptRecord]) -> None:
        """Store the attempts and move the deliveries on, in one DB transaction."""

    def exchange(
        self, records: Sequence[AttemptRecord], limit: int, now: datetime, lease: timedelta
    ) -> list[ClaimedDelivery]:
        """``record`` then ``claim``; adapters do both in one DB transaction (one commit per cycle)."""
        if records:
            self.record(records)
        return self.claim(limit, now, lease) if limit > 0 else []

    @abc.abstractmethod
    def release(self, claimed: Sequence[ClaimedDelivery]) -> None:
        """Give back the leases of deliveries that were claimed but not sent."""

    @abc.abstractmethod
    def stats(self, now: datetime) -> QueueStats: ...

    @abc.abstractmethod
    def purge(self, before: datetime, batch: int = 500) -> int:
        """Delete events recorded before ``before`` with their deliveries and attempts; return how many."""


class WebhookSender(abc.ABC):
    @abc.abstractmethod
    def send(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> AttemptResult:
        """POST ``body``; never raises: every failure is an ``AttemptResult`` with its outcome."""


# -- operators and the audit trail (issue 23) --------------------------------------------------------


class OperatorRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, operator: Operator) -> None:
        """Raise ``NameTaken`` when another operator has this name."""

    @abc.abstractmethod
    def get(self, operator_id: str) -> Operator | None: ...

    @abc.abstractmethod
    def get_by_name(self, name: str) -> Operator | None: ...

    @abc.abstractmethod
    def every_operator(self) -> list[Operator]: ...

    @abc.abstractmethod
    def save(self, operator: Operator) -> None:
        """Write back the credential, expiry, disabling and second factor of an existing operator."""


class NameTaken(Exception):
    pass


class OneTimeCodes(abc.ABC):
    """TOTP (RFC 6238): a secret per operator, codes from an authenticator app."""

    @abc.abstractmethod
    def new_secret(self) -> str: ...

    @abc.abstractmethod
    def provisioning_uri(self, secret: str, name: str) -> str: ...

    @abc.abstractmethod
    def verify(self, secret: str, code: str) -> bool: ...


class AuditLog(abc.ABC):
    """Append-only: there is no update and no delete."""

    @abc.abstractmethod
    def append(self, build: Callable[[ChainHead], AuditEntry]) -> AuditEntry:
        """Chain an entry after the current head: ``build`` makes it from the head, atomically."""

    @abc.abstractmethod
    def page(self, account_id: str | None, limit: int, starting_after: str | None) -> tuple[list[AuditEntry], bool]:
        """Newest first; ``account_id`` None: every entry (operators)."""

    @abc.abstractmethod
    def chain(self) -> Iterator[AuditEntry]:
        """Every entry in sequence order."""

    @abc.abstractmethod
    def head(self) -> ChainHead: ...


# --- refunds ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundQuery:
    account_id: str | None  # None: every merchant (admin)
    transaction_id: str | None = None
    status: str | None = None
    limit: int = 20
    starting_after: str | None = None


@dataclass(frozen=True)
class RefundPage:
    items: list[Refund]
    has_more: bool


class RefundLedger(abc.ABC):
    @abc.abstractmethod
    def add_pending(self, refund: Refund) -> None:
        """Insert unless the id exists (its result may have created it); from then on its key replays."""

    @abc.abstractmethod
    def get(self, refund_id: str) -> Refund | None: ...

    @abc.abstractmethod
    def page(self, query: RefundQuery) -> RefundPage:
        """Newest first; raises ``InvalidParameter`` if ``starting_after`` is not in the query's scope."""

    @abc.abstractmethod
    def amount_refunded(self, transaction_ids: Sequence[str]) -> dict[str, Decimal]:
        """The sum of each payment's succeeded refunds."""

    @abc.abstractmethod
    def daily_refunded(self, account_id: str | None, first: date, last: date) -> list[DailyTotal]:
        """Succeeded refunds per day, as report totals."""


class RefundPublisher(abc.ABC):
    @abc.abstractmethod
    def publish_refund(self, key: str, message: dict, timeout: float) -> None:
        """Return once the broker acknowledged the message on ``refunds``; raise ``BrokerUnavailable`` otherwise."""
