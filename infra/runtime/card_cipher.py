"""The card fields of a `transactions` message, sealed with AES-256-GCM (``aes_gcm``): the API seals, the processor opens.

The message carries ``"card": {"kid": KEY_ID, "ct": BASE64(nonce || ciphertext || tag)}`` instead of
the card fields in clear:

* the plaintext is the compact JSON ``{"number", "name", "expiration_month", "expiration_year",
  "cvv_length"}``, so a Kafka log on disk (and every replica of it) holds no readable PAN or name,
  and no CVV at all, even for whoever holds the keys;
* a random 96-bit nonce per message: NIST SP 800-38D allows 2^32 random nonces per key, about 4
  billion messages, so rotate a key well before that;
* the associated data binds the ciphertext to its transaction (``id``, ``account_id`` and the
  ``amount`` string of the same message): copied into another message, or with the amount changed,
  it no longer opens;
* ``kid`` names the key. ``CARD_DATA_KEYS`` holds ``kid:base64key`` entries separated by commas: the
  first one encrypts, every one decrypts, so keys rotate without downtime (docs/security.md).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from infra.runtime.aes_gcm import (
    AESGCM,
    KEY_BYTES,
    NONCE_BYTES,
    TAG_BYTES,
    InvalidTag,
    decode_key,
    open_sealed,
    random_key_weakness,
    seal,
)
from infra.runtime.redaction import mask_card_numbers
from infra.runtime.settings import DEV_CARD_DATA_KEYS, PLACEHOLDER_PREFIX, ConfigurationError, EnvReader, Secret

VARIABLE = "CARD_DATA_KEYS"
AAD_PREFIX = b"gateway-card-v1"
_KID = re.compile(r"[A-Za-z0-9._-]{1,32}")
_DEV_KEY = base64.b64decode(DEV_CARD_DATA_KEYS.partition(":")[2])


class CardDataUnreadable(ValueError):
    """A ``card`` field that does not open: malformed, unknown key id, tampered or moved."""


@dataclass(frozen=True)
class CardDataKeys:
    """The parsed ``CARD_DATA_KEYS``: ``(kid, base64 key)`` pairs, the first one encrypts.

    Its repr shows the key ids only, so settings can be logged.
    """

    entries: tuple[tuple[str, Secret], ...]

    @property
    def encrypting_kid(self) -> str:
        return self.entries[0][0]

    @classmethod
    def from_env(cls, env: EnvReader) -> "CardDataKeys":
        keys = cls.parse(env.secret(VARIABLE).reveal())
        for kid, key in keys.entries:
            env.refuse_if_weak(f"{VARIABLE} key {kid!r}", _key_weakness(kid, decode_key(key.reveal())))
        return keys

    @classmethod
    def parse(cls, text: str) -> "CardDataKeys":
        entries, seen = [], set()
        for position, entry in enumerate(text.split(","), start=1):
            kid, colon, key = (part.strip() for part in entry.strip().partition(":"))
            if not colon or not _KID.fullmatch(kid):
                raise ConfigurationError(
                    f"{VARIABLE} entry {position} must be kid:base64key with a kid of "
                    "1-32 letters, digits, '.', '_' or '-'"
                )
            if kid in seen:
                raise ConfigurationError(f"{VARIABLE} names key {kid!r} twice")
            try:
                decoded = decode_key(key)
            except (binascii.Error, ValueError):
                raise ConfigurationError(f"{VARIABLE} key {kid!r} is not valid base64") from None
            if len(decoded) != KEY_BYTES:
                raise ConfigurationError(
                    f"{VARIABLE} key {kid!r} decodes to {len(decoded)} bytes; AES-256 needs "
                    f"exactly {KEY_BYTES} (`openssl rand -base64 32`)"
                )
            seen.add(kid)
            entries.append((kid, Secret(key)))
        return cls(tuple(entries))

    @classmethod
    def generate(cls, *kids: str) -> "CardDataKeys":
        """Fresh random keys (tests, and a quick way to print a new entry)."""
        return cls(tuple((kid, Secret(base64.b64encode(os.urandom(KEY_BYTES)).decode())) for kid in kids))

    def to_env_value(self) -> str:
        return ",".join(f"{kid}:{key.reveal()}" for kid, key in self.entries)

    def __repr__(self) -> str:
        return f"CardDataKeys(encrypts={self.encrypting_kid!r}, decrypts={tuple(k for k, _ in self.entries)!r})"


def _key_weakness(kid: str, key: bytes) -> str | None:
    if kid.lower().startswith(PLACEHOLDER_PREFIX):
        return f"is a template placeholder ({PLACEHOLDER_PREFIX}...)"
    if key == _DEV_KEY:
        return "is the development key of `make run`"
    return random_key_weakness(key)


def bound_amount(amount: object) -> str:
    """The ``amount`` of a message as the associated data takes it: the string the API sends; a
    number (which the API never sends) binds as ""."""
    return amount if isinstance(amount, str) else ""


def associated_data(transaction_id: str, account_id: str, amount: str) -> bytes:
    return b"\x1f".join((AAD_PREFIX, transaction_id.encode(), account_id.encode(), amount.encode()))


class CardCipher:
    """Seals with the first key of ``CARD_DATA_KEYS``, opens with any. Thread-safe, no state per call."""

    def __init__(self, keys: CardDataKeys):
        self._aeads = {kid: AESGCM(decode_key(key.reveal())) for kid, key in keys.entries}
        self._kid = keys.encrypting_kid
        self._sealing = self._aeads[self._kid]

    def seal(self, fields: Mapping, transaction_id: str, account_id: str, amount: str) -> dict:
        sealed = seal(self._sealing, orjson.dumps(fields), associated_data(transaction_id, account_id, amount))
        return {"kid": self._kid, "ct": base64.b64encode(sealed).decode("ascii")}

    def open(self, card: object, transaction_id: str, account_id: str, amount: str) -> dict:
        """The card fields of a message's ``card`` value, or :class:`CardDataUnreadable` saying why."""
        if not isinstance(card, dict):
            raise CardDataUnreadable("card is not an object")
        kid, text = card.get("kid"), card.get("ct")
        aead = self._aeads.get(kid) if isinstance(kid, str) else None
        if aead is None:
            raise CardDataUnreadable(f"unknown key id {_shown(kid)}")
        blob = _ciphertext(text)
        try:
            plain = open_sealed(aead, blob, associated_data(transaction_id, account_id, amount))
        except InvalidTag:
            raise CardDataUnreadable(
                f"authentication failed under key {kid!r} (tampered, or from another transaction)"
            ) from None
        try:
            fields = orjson.loads(plain)
        except orjson.JSONDecodeError:
            fields = None
        if not isinstance(fields, dict):
            raise CardDataUnreadable("the decrypted card data is not an object")
        return fields


def _shown(kid: object) -> str:
    """A key id fit for a log line: a well-formed one, masked like any card-like digits."""
    if isinstance(kid, str) and _KID.fullmatch(kid):
        return repr(mask_card_numbers(kid))
    return "(missing or malformed)"


def _ciphertext(text: object) -> bytes:
    if not isinstance(text, str):
        raise CardDataUnreadable("ct is not a string")
    try:
        blob = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        raise CardDataUnreadable("ct is not valid base64") from None
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise CardDataUnreadable("ct is too short")
    return blob
