"""Refunds: money back from an approved payment, as named rules next to the payment rules.

A refund is decided once, like a payment: the first broken rule names its ``failure_reason``
(``infra.kernel.contracts.REFUND_FAILURE_REASONS``). Without an amount, a refund returns whatever is still
refundable when it is decided. The limit "never more than the approved amount in total" is checked
here against the payment as read, and enforced again by the database when the refund is applied
(``processor.adapters.refund_repository``): the rules explain a failure, the database guarantees it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from infra.kernel.contracts import (
    REFUND_EXCEEDS_REFUNDABLE,
    REFUND_FAILED,
    REFUND_INVALID_AMOUNT,
    REFUND_NOT_APPROVED,
    REFUND_SUCCEEDED,
    REFUND_TOO_OLD,
    REFUND_WINDOW_DAYS,
    STATUS_APPROVED,
)

REFUND_WINDOW = timedelta(days=REFUND_WINDOW_DAYS)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Payment:
    """What a refund reads of the payment it returns money from."""

    id: str
    account_id: str
    status: str
    amount: Decimal | None
    approved_at: datetime  # the payment's decision time, naive UTC
    refunded: Decimal = ZERO  # the sum of its succeeded refunds so far

    @property
    def refundable(self) -> Decimal:
        return max((self.amount or ZERO) - self.refunded, ZERO)


@dataclass(frozen=True)
class RefundRequest:
    id: str
    transaction_id: str
    account_id: str
    amount: Decimal | None  # None: everything still refundable
    amount_is_valid: bool = True  # False: the message's amount was not a positive amount of cents


class RefundRule:
    failure_reason: str

    def is_broken_by(self, request: RefundRequest, payment: Payment | None, now: datetime) -> bool:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.failure_reason!r})"


class AmountIsPositiveCents(RefundRule):
    """The API refuses such amounts; a message on the bus may still carry one."""

    failure_reason = REFUND_INVALID_AMOUNT

    def is_broken_by(self, request, payment, now):
        return not request.amount_is_valid or (request.amount is not None and request.amount <= ZERO)


class TransactionIsApproved(RefundRule):
    """Only an approved payment of the same merchant can be refunded (unknown or rejected: failed)."""

    failure_reason = REFUND_NOT_APPROVED

    def is_broken_by(self, request, payment, now):
        return payment is None or payment.status != STATUS_APPROVED or payment.account_id != request.account_id


class WithinTheRefundWindow(RefundRule):
    """At most ``REFUND_WINDOW_DAYS`` days after the payment was approved."""

    failure_reason = REFUND_TOO_OLD

    def is_broken_by(self, request, payment, now):
        return now - payment.approved_at > REFUND_WINDOW


class NeverMoreThanApproved(RefundRule):
    """All succeeded refunds of a payment together never exceed its approved amount."""

    failure_reason = REFUND_EXCEEDS_REFUNDABLE

    def is_broken_by(self, request, payment, now):
        wanted = payment.refundable if request.amount is None else request.amount
        return wanted <= ZERO or wanted > payment.refundable


REFUND_RULES: tuple[RefundRule, ...] = (
    AmountIsPositiveCents(),
    TransactionIsApproved(),
    WithinTheRefundWindow(),
    NeverMoreThanApproved(),
)


@dataclass(frozen=True)
class RefundOutcome:
    """The decision for one refund id: stored once, never changed."""

    id: str
    transaction_id: str
    account_id: str
    status: str
    amount: Decimal | None  # refunded (succeeded), or asked (failed; None when nothing was asked)
    failure_reason: str | None
    amount_refunded: Decimal  # the payment's total refunded once this decision was applied
    processed_at: datetime

    @property
    def succeeded(self) -> bool:
        return self.status == REFUND_SUCCEEDED

    def refused_by_ledger(self, refunded: Decimal) -> "RefundOutcome":
        """The database's limit held where the rules, on a stale read, let it through."""
        return replace(self, status=REFUND_FAILED, failure_reason=REFUND_EXCEEDS_REFUNDABLE, amount_refunded=refunded)


def decide_refund(request: RefundRequest, payment: Payment | None, now: datetime) -> RefundOutcome:
    broken = next((rule for rule in REFUND_RULES if rule.is_broken_by(request, payment, now)), None)
    refunded = payment.refunded if payment is not None else ZERO
    if broken is not None:
        return RefundOutcome(
            request.id,
            request.transaction_id,
            request.account_id,
            REFUND_FAILED,
            request.amount if request.amount_is_valid else None,
            broken.failure_reason,
            refunded,
            now,
        )
    assert payment is not None, "TransactionIsApproved is broken by a missing payment"
    amount = payment.refundable if request.amount is None else request.amount
    return RefundOutcome(
        request.id, request.transaction_id, request.account_id, REFUND_SUCCEEDED, amount, None, refunded + amount, now
    )
