"""Creating, checking and revoking named operators' credentials (``gateway_api.domain.operators``).

Checking a credential costs one scrypt (~50 ms), so a verified credential is remembered by its
SHA-256, with the stored hash it matched. The operator's row is still read on every request: a
disabled, expired or re-issued credential is refused on the very next one, whatever the cache.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from gateway_api.domain.errors import InvalidParameter, NotFound
from gateway_api.domain.operators import (
    DEFAULT_LIFETIME,
    MAX_LIFETIME,
    NAME,
    IssuedCredential,
    Operator,
    credential_matches,
    hash_credential,
    new_credential,
    new_operator_id,
    operator_id_of,
)
from gateway_api.use_cases.ports import NameTaken, OneTimeCodes, OperatorRepository, SecretCipher

_CACHE_LIMIT = 1024


@dataclass(frozen=True)
class SecondFactor:
    """Shown once, when an operator turns TOTP on: what the authenticator app needs."""

    operator: Operator
    secret: str
    provisioning_uri: str


class Operators:
    def __init__(
        self, repository: OperatorRepository, codes: OneTimeCodes, box: SecretCipher, now: Callable[[], datetime]
    ):
        self._repository = repository
        self._codes = codes
        self._box = box
        self._now = now
        self._verified: dict[str, str] = {}  # sha256(credential) -> the stored hash it matched
        self._lock = threading.Lock()

    def create(self, name: str, lifetime: timedelta = DEFAULT_LIFETIME) -> IssuedCredential:
        if not NAME.fullmatch(name):
            raise InvalidParameter(
                "An operator name is 2-64 lowercase letters, digits, '.', '_' or '-', starting with a letter.", "name"
            )
        now, operator_id = self._now(), new_operator_id()
        credential = new_credential(operator_id)
        operator = Operator(operator_id, name, hash_credential(credential), now, now + _lifetime(lifetime))
        try:
            self._repository.add(operator)
        except NameTaken:
            raise InvalidParameter(f"An operator named {name!r} exists already.", "name") from None
        return IssuedCredential(operator, credential)

    def reissue(self, name: str, lifetime: timedelta = DEFAULT_LIFETIME) -> IssuedCredential:
        """A new credential (and expiry) for an operator; the old credential stops working."""
        operator = self.named(name)
        credential = new_credential(operator.id)
        operator = replace(
            operator,
            credential_hash=hash_credential(credential),
            disabled_at=None,
            expires_at=self._now() + _lifetime(lifetime),
        )
        self._repository.save(operator)
        return IssuedCredential(operator, credential)

    def disable(self, name: str) -> Operator:
        operator = self.named(name).disabled(self._now())
        self._repository.save(operator)
        return operator

    def require_second_factor(self, name: str) -> SecondFactor:
        operator = self.named(name)
        secret = self._codes.new_secret()
        operator = replace(operator, totp_secret=self._box.encrypt(secret, _context(operator)), totp_required=True)
        self._repository.save(operator)
        return SecondFactor(operator, secret, self._codes.provisioning_uri(secret, operator.name))

    def named(self, name: str) -> Operator:
        operator = self._repository.get_by_name(name)
        if operator is None:
            raise NotFound(f"No operator named {name!r}.")
        return operator

    def every_operator(self) -> list[Operator]:
        return self._repository.every_operator()

    def authenticate(self, credential: str) -> Operator | None:
        """The active operator this credential belongs to, or None."""
        operator_id = operator_id_of(credential)
        operator = self._repository.get(operator_id) if operator_id else None
        if operator is None or not operator.active(self._now()):
            return None
        digest = hashlib.sha256(credential.encode()).hexdigest()
        if self._verified.get(digest) == operator.credential_hash:
            return operator
        if not credential_matches(credential, operator.credential_hash):
            return None
        with self._lock:
            if len(self._verified) >= _CACHE_LIMIT:
                self._verified.clear()
            self._verified[digest] = operator.credential_hash
        return operator

    def second_factor_passes(self, operator: Operator, code: str | None) -> bool:
        """True when the operator requires no second factor, or ``code`` is the current one."""
        if not operator.totp_required:
            return True
        if not code or not operator.totp_secret:
            return False
        try:
            secret = self._box.decrypt(operator.totp_secret, _context(operator))
        except ValueError:
            return False
        return self._codes.verify(secret, code)


def _lifetime(lifetime: timedelta) -> timedelta:
    if not timedelta(0) < lifetime <= MAX_LIFETIME:
        raise InvalidParameter(f"An operator credential lives at most {MAX_LIFETIME.days} days.", "expires_in_days")
    return lifetime


def _context(operator: Operator) -> str:
    return f"operator-totp:{operator.id}"
