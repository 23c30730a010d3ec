"""Idempotency keys with Stripe's semantics.

The first request with a key claims it and fixes the transaction id and creation time. A later
request with the same key and the same body gets the first answer again; with another body it is
refused. The first answer is a 202 once the key's ledger row exists (written only after the broker
acknowledged the transaction, by the API or from its decision): a request that failed to reach the
broker leaves no row, and its retry with the same key re-sends the *same* transaction id, which the
processor deduplicates, so a retry can never become a second charge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

MAX_KEY_LENGTH = 255
# Fingerprints of this version cover only what the ledger keeps (TransactionRequest.canonical). Older
# ones covered the card number and CVV: migration 0003 erased those, and a key that still holds one
# (written by an older API during a rolling upgrade) replays for any body until it expires.
FINGERPRINT_VERSION = "v2:"


def versioned_fingerprint(digest: str) -> str:
    return FINGERPRINT_VERSION + digest


@dataclass(frozen=True)
class IdempotencyRecord:
    account_id: str
    key: str
    fingerprint: str
    transaction_id: str
    created_at: datetime

    def matches(self, fingerprint: str) -> bool:
        if not self.fingerprint.startswith(FINGERPRINT_VERSION):
            return True  # nothing comparable was kept: replaying the first answer never charges twice
        return self.fingerprint == fingerprint
