"""The messages the services exchange over Kafka: topic names and field names, in one place.

``transactions`` (key: account id) carries the original Go processor's input, with the card fields
encrypted (AES-256-GCM, ``infra.card_cipher``) into one ``card`` object.
``transactions_result`` carries ``{"id", "status", "error_message"}`` exactly as the original did,
plus the fields a ledger and a live panel need. ``transactions_dlq`` carries messages a consumer can
never use (transactions the processor cannot identify, results the ledger can never apply), with the
reason and where they came from.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

TRANSACTIONS = "transactions"
TRANSACTIONS_RESULT = "transactions_result"
TRANSACTIONS_DLQ = "transactions_dlq"

# Transaction ids and account ids: at most this many characters, compared case-sensitively.
MAX_ID_LENGTH = 100

STATUS_APPROVED = "approved"
STATUS_REJECTED = "rejected"
FINAL_STATUSES = (STATUS_APPROVED, STATUS_REJECTED)


@dataclass(frozen=True)
class Topics:
    """Topic names, optionally prefixed so several environments (or tests) can share one cluster."""

    transactions: str = TRANSACTIONS
    results: str = TRANSACTIONS_RESULT
    dlq: str = TRANSACTIONS_DLQ

    @classmethod
    def with_prefix(cls, prefix: str) -> "Topics":
        return cls(prefix + TRANSACTIONS, prefix + TRANSACTIONS_RESULT, prefix + TRANSACTIONS_DLQ)

    def all(self) -> tuple[str, str, str]:
        return (self.transactions, self.results, self.dlq)


# Field names of a message on `transactions`. `amount` is a decimal string (a number is still read),
# `created_at` RFC 3339 (optional), `card` the encrypted card fields {"kid", "ct"} (infra.card_cipher).
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
