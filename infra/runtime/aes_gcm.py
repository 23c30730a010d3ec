"""AES-256-GCM, the one way the gateway encrypts: card fields on Kafka (``card_cipher``) and webhook
signing secrets at rest (the API's secret box) both seal through here.

A sealed value is ``nonce || ciphertext || tag`` with a fresh random 96-bit nonce per call: NIST SP
800-38D allows 2^32 random nonces per key, so rotate a key well before that. The associated data binds a
ciphertext to where it belongs (a transaction, an endpoint): moved elsewhere, it no longer opens.
"""

from __future__ import annotations

import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
# A random 32-byte key has ~30 distinct byte values; fewer than 8 is a typed or zeroed "key".
_MIN_DISTINCT_BYTES = 8

__all__ = [
    "KEY_BYTES",
    "NONCE_BYTES",
    "TAG_BYTES",
    "AESGCM",
    "InvalidTag",
    "decode_key",
    "open_sealed",
    "random_key_weakness",
    "seal",
]


def decode_key(text: str) -> bytes:
    """A base64 AES key: standard or URL-safe alphabet, padding required, as `openssl rand -base64`
    and Python print it (CARD_DATA_KEYS entries, WEBHOOK_SECRETS_KEY). Raises ValueError."""
    return binascii.a2b_base64(text.replace("-", "+").replace("_", "/"), strict_mode=True)


def random_key_weakness(key: bytes) -> str | None:
    """Why ``key`` is no random key, or None (for any AES key the gateway holds)."""
    if len(set(key)) < _MIN_DISTINCT_BYTES:
        return "is not random (too few distinct bytes)"
    return None


def seal(aead: AESGCM, plaintext: bytes, associated_data: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + aead.encrypt(nonce, plaintext, associated_data)


def open_sealed(aead: AESGCM, blob: bytes, associated_data: bytes) -> bytes:
    """The plaintext; :class:`InvalidTag` if the blob was tampered with, moved or sealed under another key."""
    return aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data)
