"""Claiming an Idempotency-Key: what accepting a transaction and accepting a refund share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from gateway_api.domain.accounts import SecretHasher
from gateway_api.domain.errors import IdempotencyConflict
from gateway_api.domain.idempotency import IdempotencyRecord, versioned_fingerprint
from gateway_api.use_cases.ports import IdempotencyStore


class KeyClaims:
    def __init__(
        self,
        keys: IdempotencyStore,
        hasher: SecretHasher,
        new_id: Callable[[], str],
        now: Callable[[], datetime],
        ttl: timedelta,
    ):
        self._keys = keys
        self._hasher = hasher
        self._new_id = new_id
        self._now = now
        self._ttl = ttl

    def __call__(self, account_id: str, key: str | None, canonical: str) -> tuple[IdempotencyRecord | None, bool]:
        """The record holding ``key`` (a new id and now, if this request is the first to claim it;
        None without a key), and whether another request held it before this one. Raises
        ``IdempotencyConflict`` when that request's body (``canonical``: what the ledger keeps of it)
        was another."""
        if not key:
            return None, False
        now, new_id = self._now(), self._new_id()
        fingerprint = versioned_fingerprint(self._hasher.digest(canonical))
        record = self._keys.claim(IdempotencyRecord(account_id, key, fingerprint, new_id, now), now - self._ttl)
        if not record.matches(fingerprint):
            raise IdempotencyConflict(
                "This Idempotency-Key was already used with a different request body.", param="Idempotency-Key"
            )
        return record, record.transaction_id != new_id
