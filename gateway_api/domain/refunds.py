"""Refunds as the merchant sees them: asked through the API, decided by the processor.

A refund is a resource of its own: the payment's status never changes (approved stays approved);
its ``amount_refunded`` is the sum of its succeeded refunds. ``failure_reason`` comes from the
table in ``infra.kernel.contracts`` (docs/integrate.md, Refunds).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from infra.kernel.clock import rfc3339
from infra.kernel.contracts import REFUND_FINAL_STATUSES
from infra.kernel.identifiers import loggable

REFUND_PENDING = "pending"
REFUND_STATUSES = (REFUND_PENDING, *REFUND_FINAL_STATUSES)
REASONS = ("requested_by_customer", "duplicate", "fraudulent")
ID_PREFIX = "re_"


def new_refund_id() -> str:
    return loggable(lambda: ID_PREFIX + uuid.uuid4().hex)


@dataclass(frozen=True)
class RefundRequest:
    transaction_id: str
    amount: Decimal | None  # None: whatever is still refundable when the processor decides
    reason: str | None = None
    description: str | None = None

    def canonical(self) -> str:
        """What identifies the request for its idempotency fingerprint (never the same as a payment's)."""
        amount = "" if self.amount is None else str(self.amount)
        return "\x1f".join(("refund", self.transaction_id, amount, self.reason or "", self.description or ""))


@dataclass(frozen=True)
class Refund:
    """One refund row of the ledger."""

    id: str
    account_id: str
    transaction_id: str
    status: str
    amount: Decimal | None  # asked (pending; None: all that is left), refunded (succeeded) or asked (failed)
    reason: str | None
    created_at: datetime
    description: str | None = None
    failure_reason: str | None = None
    processed_at: datetime | None = None

    @classmethod
    def pending(cls, refund_id: str, account_id: str, request: RefundRequest, created_at: datetime) -> "Refund":
        return cls(
            refund_id,
            account_id,
            request.transaction_id,
            REFUND_PENDING,
            request.amount,
            request.reason,
            created_at,
            request.description,
        )


def refund_message(refund: Refund) -> dict:
    """The message on the ``refunds`` topic (``infra.kernel.contracts.REFUND_FIELDS``)."""
    return {
        "id": refund.id,
        "transaction_id": refund.transaction_id,
        "account_id": refund.account_id,
        "amount": None if refund.amount is None else str(refund.amount),
        "reason": refund.reason,
        "created_at": rfc3339(refund.created_at),
    }
