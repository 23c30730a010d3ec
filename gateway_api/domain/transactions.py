"""Transactions as the merchant sees them: what was asked, and what the ledger keeps.

The ledger never holds the card number or the CVV: only the brand and the last four digits. The
message to the processor carries the card encrypted (a ``CardSealer`` port does it), and of the CVV
only its length: the value never leaves the API (docs/threat-model-card-data.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from infra.kernel.cards import card_brand, last4
from infra.kernel.clock import rfc3339
from infra.kernel.contracts import FINAL_STATUSES
from infra.kernel.identifiers import loggable

STATUS_PENDING = "pending"
STATUSES = (STATUS_PENDING, *FINAL_STATUSES)


def new_transaction_id() -> str:
    """A version-4 UUID, as the original processor's ids, that the log masking leaves whole."""
    return loggable(lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class Card:
    """Card data as received; masks itself so it cannot leak through a repr or a log line."""

    number: str = field(repr=False)
    name: str = field(repr=False)
    expiration_month: int = field(repr=False)
    expiration_year: int = field(repr=False)
    cvv: str = field(repr=False)

    @property
    def brand(self) -> str | None:
        return card_brand(self.number)

    @property
    def last4(self) -> str:
        return last4(self.number)

    def fields(self) -> dict:
        """What gets encrypted into the message's ``card`` (``infra.kernel.contracts.CARD_FIELDS``): of the CVV,
        only what the processor's rule checks (how many digits), so no copy of the message holds it."""
        return {
            "number": self.number,
            "name": self.name,
            "expiration_month": self.expiration_month,
            "expiration_year": self.expiration_year,
            "cvv_length": len(self.cvv),
        }

    def __repr__(self) -> str:
        return f"Card(brand={self.brand!r}, last4={self.last4!r})"


@dataclass(frozen=True)
class TransactionRequest:
    amount: Decimal
    card: Card
    description: str | None = None

    @property
    def amount_text(self) -> str:
        """The amount as the message carries it (and as the card's ciphertext is bound to it)."""
        return str(self.amount)

    def canonical(self) -> str:
        """What identifies the request for its idempotency fingerprint: only what the ledger keeps.

        Amount, card brand and last 4, description: the ledger row holds these in clear anyway, so the
        fingerprint reveals nothing new, and it holds no CVV, full number, expiry or holder name that
        could be brute-forced from it. A retry with the same key is therefore "the same body" when
        these agree, even if the CVV, expiry or name differ (docs/integrate.md, Idempotency).
        """
        return "\x1f".join((self.amount_text, self.card.brand or "", self.card.last4, self.description or ""))


@dataclass(frozen=True)
class Transaction:
    """One row of the merchant-facing ledger."""

    id: str
    account_id: str
    status: str
    amount: Decimal | None
    card_brand: str | None
    card_last4: str | None
    created_at: datetime  # the column is NOT NULL; a result without one takes its processed_at
    description: str | None = None
    error_message: str = ""
    processed_at: datetime | None = None

    @classmethod
    def pending(cls, id: str, account_id: str, request: TransactionRequest, created_at: datetime) -> "Transaction":
        return cls(
            id=id,
            account_id=account_id,
            status=STATUS_PENDING,
            amount=request.amount,
            card_brand=request.card.brand,
            card_last4=request.card.last4,
            created_at=created_at,
            description=request.description,
        )


def contract_message(
    transaction_id: str, account_id: str, request: TransactionRequest, created_at: datetime, sealed_card: dict
) -> dict:
    """The message on the `transactions` topic: exactly ``infra.kernel.contracts.TRANSACTION_FIELDS``.

    ``sealed_card`` is the card encrypted for this id, account and amount (a ``CardSealer``).
    """
    return {
        "id": transaction_id,
        "account_id": account_id,
        "amount": request.amount_text,
        "card": sealed_card,
        "created_at": rfc3339(created_at),
    }
