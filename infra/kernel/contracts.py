"""The messages the services exchange over Kafka: topic names and field names, in one place.

``transactions`` (key: account id) carries the original Go processor's input, with the card fields
encrypted (AES-256-GCM, ``infra.runtime.card_cipher``) into one ``card`` object.
``transactions_result`` carries ``{"id", "status", "error_message"}`` exactly as the original did,
plus the fields a ledger and a live panel need. ``transactions_dlq`` carries messages a consumer can
never use (transactions the processor cannot identify, results the ledger can never apply), with the
reason and where they came from.

``refunds`` (key: account id, like payments) carries refund requests and ``refunds_result`` their
decisions (``RefundResult``), so the payment topics' contract is unchanged for existing consumers.
Poison refund messages go to the same ``transactions_dlq``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

TRANSACTIONS = "transactions"
TRANSACTIONS_RESULT = "transactions_result"
TRANSACTIONS_DLQ = "transactions_dlq"
REFUNDS = "refunds"
REFUNDS_RESULT = "refunds_result"

# Transaction ids and account ids: at most this many characters, compared case-sensitively.
MAX_ID_LENGTH = 100

STATUS_APPROVED = "approved"
STATUS_REJECTED = "rejected"
FINAL_STATUSES = (STATUS_APPROVED, STATUS_REJECTED)

REFUND_SUCCEEDED = "succeeded"
REFUND_FAILED = "failed"
REFUND_FINAL_STATUSES = (REFUND_SUCCEEDED, REFUND_FAILED)
# Why a refund failed (docs/integrate.md, Refunds): the processor decides, the ledger and webhooks show it.
REFUND_NOT_APPROVED = "transaction_not_approved"
REFUND_EXCEEDS_REFUNDABLE = "amount_exceeds_refundable"
REFUND_TOO_OLD = "transaction_too_old"
REFUND_INVALID_AMOUNT = "invalid_amount"
REFUND_FAILURE_REASONS = (REFUND_NOT_APPROVED, REFUND_EXCEEDS_REFUNDABLE, REFUND_TOO_OLD, REFUND_INVALID_AMOUNT)
# A refund is accepted up to this many days after its payment was approved.
REFUND_WINDOW_DAYS = 180


@dataclass(frozen=True)
class Topics:
    """Topic names, optionally prefixed so several environments (or tests) can share one cluster."""

    transactions: str = TRANSACTIONS
    results: str = TRANSACTIONS_RESULT
    dlq: str = TRANSACTIONS_DLQ
    refunds: str = REFUNDS
    refunds_result: str = REFUNDS_RESULT

    @classmethod
    def with_prefix(cls, prefix: str) -> "Topics":
        return cls(
            prefix + TRANSACTIONS,
            prefix + TRANSACTIONS_RESULT,
            prefix + TRANSACTIONS_DLQ,
            prefix + REFUNDS,
            prefix + REFUNDS_RESULT,
        )

    def names(self) -> tuple[str, ...]:
        return (self.transactions, self.results, self.dlq, self.refunds, self.refunds_result)


# Field names of a message on `transactions`. `amount` is a decimal string (a number is still read),
# `created_at` RFC 3339 (optional), `card` the encrypted card fields {"kid", "ct"} (infra.runtime.card_cipher).
TRANSACTION_FIELDS = ("id", "account_id", "amount", "card", "created_at")

# The fields inside `card` once decrypted: number as a string, month, year and the CVV's length as
# integers. The CVV itself never travels (PCI DSS 3.3.1.2; docs/threat-model-card-data.md): the API
# checks it is 3 or 4 digits, the processor's rule checks the length against the brand. Messages
# sealed before issue 23 carry "cvv" (the value) instead, and are still decided the same.
CARD_FIELDS = ("number", "name", "expiration_month", "expiration_year", "cvv_length")
LEGACY_CVV_FIELD = "cvv"

# The contract before encryption carried the card in clear under these names; the processor reads
# them only with ACCEPT_PLAINTEXT_CARDS=true (for producers that predate encryption).
PLAINTEXT_CARD_FIELDS = {
    "number": "credit_card_number",
    "name": "credit_card_name",
    "expiration_month": "credit_card_expiration_month",
    "expiration_year": "credit_card_expiration_year",
    "cvv": "credit_card_cvv",
}


@dataclass(frozen=True)
class TransactionResult:
    """A message on `transactions_result`: the decision for one transaction id."""

    id: str
    status: str
    error_message: str
    account_id: str
    amount: str | None
    card_brand: str | None
    card_last4: str | None
    created_at: str | None
    processed_at: str

    def to_json(self) -> bytes:
        # vars() rather than asdict(): the fields are flat, and asdict's deep copy is slow at volume.
        return json.dumps(vars(self), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> "TransactionResult":
        data = json.loads(raw)
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__})


# Field names of a message on `refunds`: the refund id ("re_..."), the payment's id, the merchant,
# the amount as a decimal string (null: whatever is still refundable when it is decided), the reason.
REFUND_FIELDS = ("id", "transaction_id", "account_id", "amount", "reason", "created_at")


@dataclass(frozen=True)
class RefundResult:
    """A message on `refunds_result`: the decision for one refund id, made once.

    ``amount`` is what was refunded (succeeded) or asked (failed; null when nothing was asked);
    ``amount_refunded`` the payment's total refunded once this decision was applied.
    """

    id: str
    transaction_id: str
    account_id: str
    status: str
    amount: str | None
    failure_reason: str | None
    amount_refunded: str
    processed_at: str

    def to_json(self) -> bytes:
        return json.dumps(vars(self), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> "RefundResult":
        data = json.loads(raw)
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class DeadLetter:
    """A message on `transactions_dlq`: input a consumer can never use, why, and where it came from."""

    reason: str
    source_topic: str
    source_partition: int
    source_offset: int
    payload: str  # the original bytes as text, with card-like digit runs masked

    def to_json(self) -> bytes:
        # vars() rather than asdict(): the fields are flat, and asdict's deep copy is slow at volume.
        return json.dumps(vars(self), separators=(",", ":")).encode()
