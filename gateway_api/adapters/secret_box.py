"""Webhook signing secrets at rest: AES-256-GCM under WEBHOOK_SECRETS_KEY.

The dispatcher must read a secret back to sign with it, so it cannot be stored as a hash. Each
secret is encrypted with a fresh 96-bit nonce and the endpoint id as associated data: a ciphertext
copied onto another endpoint's row does not decrypt. A stolen database without the key reveals no
secret. Stored as ``v1.<base64(nonce + ciphertext + tag)>``; the version leaves room for a key change.
"""

from __future__ import annotations

import base64
import binascii

from infra.runtime.aes_gcm import AESGCM, KEY_BYTES, InvalidTag, decode_key, open_sealed, seal
from infra.runtime.settings import Secret

from gateway_api.use_cases.ports import SecretCipher

_VERSION = "v1."


class AesGcmSecretBox(SecretCipher):
    def __init__(self, key: Secret):
        raw = decode_key(key.reveal())
        if len(raw) != KEY_BYTES:
            raise ValueError(f"the key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(raw)

    def encrypt(self, plaintext: str, context: str) -> str:
        return _VERSION + base64.urlsafe_b64encode(seal(self._aead, plaintext.encode(), context.encode())).decode()

    def decrypt(self, token: str, context: str) -> str:
        if not token.startswith(_VERSION):
            raise ValueError("unknown secret format")
        try:
            raw = base64.urlsafe_b64decode(token[len(_VERSION) :])
            return open_sealed(self._aead, raw, context.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError):
            raise ValueError("the secret does not decrypt with this key for this endpoint") from None
