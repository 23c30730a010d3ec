"""Merchant accounts and their API secrets.

A secret carries 256 bits from ``secrets`` and is shown once. Only HMAC-SHA256(pepper, secret) is
stored: a stolen database without the pepper cannot be used to authenticate or to brute-force
secrets, and checking a request costs one HMAC (microseconds), not a slow password hash, which
would be pointless for a 256-bit random value anyway.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from infra.kernel.identifiers import loggable

SECRET_BYTES = 32


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    secret_hash: str = field(repr=False)
    created_at: datetime
    disabled: bool = False
    # The operator's override of the default request rate (domain/rate_limits.py); None: the default.
    rate_limit_per_second: int | None = None


@dataclass(frozen=True)
class IssuedSecret:
    """The only moment the plain secret exists: returned to the caller, never stored."""

    account: Account
    secret: str = field(repr=False)


def new_account_id() -> str:
    return loggable(lambda: "acct_" + secrets.token_hex(12))


def new_secret() -> str:
    return "sk_" + secrets.token_urlsafe(SECRET_BYTES)


class SecretHasher:
    """Keyed hashing of secrets and request fingerprints with the server-side pepper."""

    def __init__(self, pepper: str):
        if not pepper:
            raise ValueError("the secret pepper must not be empty")
        self._key = pepper.encode()
        # Compared against when the account does not exist, so both failures cost the same.
        self._decoy = self.digest("decoy" + secrets.token_hex(16))

    def digest(self, value: str) -> str:
        # hmac.digest: the same HMAC-SHA256 in one call to OpenSSL, ~3 us less than hmac.new(...).hexdigest()
        # (every request authenticates with it, every keyed request fingerprints with it).
        return hmac.digest(self._key, value.encode(), "sha256").hex()

    def verify(self, secret: str, account: Account | None) -> bool:
        expected = account.secret_hash if account is not None else self._decoy
        matches = hmac.compare_digest(self.digest(secret), expected)
        return matches and account is not None and not account.disabled
