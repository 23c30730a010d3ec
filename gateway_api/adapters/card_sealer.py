"""The CardSealer port on the shared AES-256-GCM card cipher (infra.runtime.card_cipher)."""

from __future__ import annotations

from infra.runtime.card_cipher import CardCipher, CardDataKeys

from gateway_api.use_cases.ports import CardSealer


class AesGcmCardSealer(CardSealer):
    def __init__(self, keys: CardDataKeys):
        self._cipher = CardCipher(keys)

    def seal(self, card_fields: dict, transaction_id: str, account_id: str, amount: str) -> dict:
        return self._cipher.seal(card_fields, transaction_id, account_id, amount)
