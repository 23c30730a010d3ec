"""Named operators: one credential per person, stored as a scrypt hash, with an expiry, revocable.

A credential reads ``gop_<operator id>.<256 random bits>`` and is shown once. The id in front finds
the row without trying every hash; only ``scrypt(secret, random salt)`` is stored (hashlib's, the
parameters in the stored string so they can be raised later). An operator may require a second
factor (TOTP) for the panel. ``GATEWAY_ADMIN_TOKEN`` is the bootstrap credential that creates the
first operators; ``GATEWAY_ADMIN_TOKEN_ENABLED=false`` turns it off (docs/integrate.md, "Operators").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from infra.kernel.identifiers import loggable

TOKEN_PREFIX = "gop_"
BOOTSTRAP_NAME = "bootstrap"  # the name GATEWAY_ADMIN_TOKEN's actions carry in logs and the audit trail
NAME = re.compile(r"[a-z][a-z0-9._-]{1,63}")
DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=366)
# RFC 7914's interactive parameters: 16 MiB, ~50 ms a check; a verified credential is then cached.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SALT_BYTES, _KEY_BYTES = 16, 32


@dataclass(frozen=True)
class Operator:
    id: str
    name: str
    credential_hash: str = field(repr=False)
    created_at: datetime
    expires_at: datetime
    disabled_at: datetime | None = None
    totp_secret: str | None = field(default=None, repr=False)  # sealed
    totp_required: bool = False

    def active(self, now: datetime) -> bool:
        return self.disabled_at is None and now < self.expires_at

    def disabled(self, now: datetime) -> "Operator":
        return replace(self, disabled_at=self.disabled_at or now)


@dataclass(frozen=True)
class IssuedCredential:
    """The only moment the plain credential exists: returned to the caller, never stored."""

    operator: Operator
    credential: str = field(repr=False)


def new_operator_id() -> str:
    return loggable(lambda: "op_" + secrets.token_hex(10))


def new_credential(operator_id: str) -> str:
    return f"{TOKEN_PREFIX}{operator_id}.{secrets.token_urlsafe(32)}"


def operator_id_of(credential: str) -> str | None:
    """The operator id a credential names, or None when it is no operator credential at all."""
    if not credential.startswith(TOKEN_PREFIX):
        return None
    operator_id, dot, secret = credential[len(TOKEN_PREFIX) :].partition(".")
    return operator_id if dot and secret and operator_id.startswith("op_") and len(operator_id) <= 40 else None


def hash_credential(credential: str) -> str:
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _scrypt(credential, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def credential_matches(credential: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(credential, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(computed, base64.b64decode(key))


def _scrypt(credential: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(credential.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=_KEY_BYTES)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
