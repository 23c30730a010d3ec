"""The card fields of a `transactions` message: opened from its encrypted ``card``, or read in clear
from the original contract's fields when ACCEPT_PLAINTEXT_CARDS lets a producer that predates
encryption send them. Nothing here logs or keeps the fields: they live as long as the batch."""

from __future__ import annotations

from collections import Counter

from infra.kernel.contracts import PLAINTEXT_CARD_FIELDS
from infra.runtime.card_cipher import CardCipher, CardDataUnreadable, bound_amount

from processor.domain.card import NOT_ENCRYPTED, UNDECRYPTABLE

NO_FIELDS: dict = {}


class CardDataReader:
    """``failures`` counts why cards did not open (key ids and causes, never card data) for the log."""

    def __init__(self, cipher: CardCipher, accept_plaintext: bool):
        self._cipher = cipher
        self._accept_plaintext = accept_plaintext
        self.failures: Counter[str] = Counter()

    def read(self, data: dict, transaction_id: str, account_id: str) -> tuple[dict, str | None]:
        """``(card fields, None)``, or ``({}, why they cannot be read)``."""
        card = data.get("card")
        if card is not None:
            try:
                return self._cipher.open(card, transaction_id, account_id, bound_amount(data.get("amount"))), None
            except CardDataUnreadable as exc:
                self.failures[str(exc)] += 1
                return NO_FIELDS, UNDECRYPTABLE
        if self._accept_plaintext:
            return {name: data.get(field) for name, field in PLAINTEXT_CARD_FIELDS.items()}, None
        return NO_FIELDS, NOT_ENCRYPTED
