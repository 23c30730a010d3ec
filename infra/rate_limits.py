"""Counting hits against rate limit policies with the ``limits`` library (fixed windows), shared by
the API's and the panel's workers through the store its URL names: ``redis://`` (compose, Kubernetes: shared by every replica), ``sqlite:///``
(`make run`: shared by the workers of one machine) or ``memory://`` (one process: tests).

When the store cannot be reached the request passes (and the failure is logged and counted):
taking payments matters more than counting them."""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

import infra.sqlite_rate_limits  # noqa: F401 - registers the sqlite:// scheme with limits

log = logging.getLogger(__name__)


class Policy(Protocol):
    """A quota of requests per window of whole seconds (the IETF RateLimit-Policy's q and w).

    Read-only properties, so the services' frozen dataclasses are policies too."""

    @property
    def name(self) -> str: ...

    @property
    def quota(self) -> int: ...

    @property
    def window_seconds(self) -> int: ...


@dataclass(frozen=True)
class Decision:
    """What a hit on one policy left: whether the request passes, what remains and when it resets."""

    policy: Policy
    allowed: bool
    remaining: int
    reset_seconds: int
REDIS_TIMEOUT_SECONDS = 0.25  # a slow store delays requests by at most this much, then they pass


class RateLimiter:
    def __init__(self, storage_url: str, key_prefix: str = "gateway", on_store_failure=lambda: None):
        options: dict[str, float | str | bool] = {"wrap_exceptions": True}
        if storage_url.startswith(("redis://", "rediss://")):
            options |= {"key_prefix": key_prefix, "socket_timeout": REDIS_TIMEOUT_SECONDS,
                        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS}
        self._prefix = key_prefix
        self._storage = storage_from_string(storage_url, **options)
        self._limiter = FixedWindowRateLimiter(self._storage)
        self._incr_with_expiry = getattr(self._storage, "incr_with_expiry", None)
        self._on_store_failure = on_store_failure

    def close(self) -> None:
        """Hand the store's connections back (Redis: its pool's sockets), as an app that stops does."""
        client = getattr(self._storage, "storage", None)  # limits' RedisStorage keeps its redis.Redis here
        close = getattr(client, "close", None)
        if callable(close):
            close()

    def hit(self, policy: Policy, *identifiers: str) -> Decision:
        """One request against ``policy`` for this partition (account id, client address...)."""
        item = _item(policy)
        key = item.key_for(self._prefix, *identifiers)
        try:
            count, reset = self._count(key, item.get_expiry())
        except StorageError as exc:
            log.warning("rate limit store unavailable: request passes", extra={"error_class": type(exc.storage_error).__name__})
            self._on_store_failure()
            return Decision(policy, True, policy.quota, policy.window_seconds)
        seconds = min(policy.window_seconds, max(1, math.ceil(reset - time.time())))
        return Decision(policy, count <= policy.quota, max(0, policy.quota - count), seconds)

    def _count(self, key: str, expiry: int) -> tuple[int, float]:
        """The count after this hit and the window's end: one statement where the store can (SQLite)."""
        if self._incr_with_expiry is not None:
            try:
                return self._incr_with_expiry(key, expiry)
            except self._storage.base_exceptions as exc:
                raise StorageError(exc) from exc
        return self._storage.incr(key, expiry), self._storage.get_expiry(key)

    def used(self, policy: Policy, *identifiers: str) -> int:
        """How many hits the current window of ``policy`` holds (0 when the store cannot say)."""
        try:
            return self._storage.get(_item(policy).key_for(self._prefix, *identifiers))
        except StorageError:
            self._on_store_failure()
            return 0

    def healthy(self) -> bool:
        return self._storage.check()


def _item(policy: Policy) -> RateLimitItem:
    return RateLimitItemPerSecond(policy.quota, policy.window_seconds, namespace=policy.name)
