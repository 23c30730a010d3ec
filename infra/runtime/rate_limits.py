"""Counting hits against rate limit policies with the ``limits`` library (fixed windows), shared by
the API's and the panel's workers through the store its URL names: ``redis://`` (compose, Kubernetes: shared by every replica), ``sqlite:///``
(`make run`: shared by the workers of one machine) or ``memory://`` (one process: tests).

When the store cannot be reached the request passes (and the failure is logged and counted):
taking payments matters more than counting them.

A large quota is counted in reservations (:class:`Reservations`): a process takes a block of hits
from the store in one statement and numbers its requests from it, so the store sees one write per
block instead of one per request, and no more than the quota ever passes across processes."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

import infra.runtime.sqlite_rate_limits  # noqa: F401 - registers the sqlite:// scheme with limits

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
            options |= {
                "key_prefix": key_prefix,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            }
        self._prefix = key_prefix
        self._storage = storage_from_string(storage_url, **options)
        self._limiter = FixedWindowRateLimiter(self._storage)
        self._incr_with_expiry = getattr(self._storage, "incr_with_expiry", None)
        self._on_store_failure = on_store_failure
        self._reservations = Reservations()

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
        block = reservation_size(policy.quota)
        try:
            if block > 1:
                count, reset = self._reservations.take(key, block, lambda n: self._count(key, item.get_expiry(), n))
            else:
                count, reset = self._count(key, item.get_expiry())
        except StorageError as exc:
            log.warning(
                "rate limit store unavailable: request passes", extra={"error_class": type(exc.storage_error).__name__}
            )
            self._on_store_failure()
            return Decision(policy, True, policy.quota, policy.window_seconds)
        seconds = min(policy.window_seconds, max(1, math.ceil(reset - time.time())))
        return Decision(policy, count <= policy.quota, max(0, policy.quota - count), seconds)

    def _count(self, key: str, expiry: int, amount: int = 1) -> tuple[int, float]:
        """The count after ``amount`` hits and the window's end: one statement where the store can (SQLite)."""
        if self._incr_with_expiry is not None:
            try:
                return self._incr_with_expiry(key, expiry, amount)
            except self._storage.base_exceptions as exc:
                raise StorageError(exc) from exc
        return self._storage.incr(key, expiry, amount=amount), self._storage.get_expiry(key)

    def used(self, policy: Policy, *identifiers: str) -> int:
        """How many hits the current window of ``policy`` holds (0 when the store cannot say)."""
        try:
            return self._storage.get(_item(policy).key_for(self._prefix, *identifiers))
        except StorageError:
            self._on_store_failure()
            return 0

    def healthy(self) -> bool:
        return self._storage.check()


RESERVATION_SHARE = 1000  # a block is at most this fraction of the quota...
MAX_RESERVATION = 100  # ...and at most this many hits


def reservation_size(quota: int) -> int:
    """Hits a process takes from the store at once: 1 (one write per request, exact) below a quota
    of 2,000 per window, so the default budgets and every small one count exactly as they always
    did. Above, a block strands at most 1/1,000 of the quota per process and window (hits counted
    that no request used when the window ends), so a merchant at its limit may meet a 429 that
    much early; never late."""
    return max(1, min(MAX_RESERVATION, quota // RESERVATION_SHARE))


class Reservations:
    """Blocks of hits taken from the store, numbered locally: per key, the next number and the last.

    Each request gets a number no other request (in any process) gets: the store's count after the
    block was taken tells which numbers are this block's. A request passes when its number is within
    the quota, as with one write per request. A block ends with its window; while one thread takes
    the next block, the others count one hit each in the store rather than wait (a slow store never
    queues a process's threads behind one another, and at most one block per key is in flight).
    """

    MAX_KEYS = 4096  # keys with a block (accounts with a large override); expired ones go beyond this

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._lock = threading.Lock()
        self._blocks: dict[str, list] = {}  # key -> [next number, last number, window end, refilling]

    def take(self, key: str, block: int, count: Callable[[int], tuple[int, float]]) -> tuple[int, float]:
        """This hit's number and its window's end; ``count(n)`` adds n hits in the store."""
        with self._lock:
            entry = self._blocks.get(key)
            if entry is not None and entry[0] <= entry[1] and self._clock() < entry[2]:
                entry[0] += 1
                return entry[0] - 1, entry[2]
            if entry is not None and entry[3]:
                alone = True
            else:
                alone = False
                entry = self._refilling(key)
        if alone:
            return count(1)
        try:
            last, end = count(block)
        except BaseException:
            entry[3] = False
            raise
        with self._lock:
            entry[:] = [last - block + 2, last, end, False]
        return last - block + 1, end

    def _refilling(self, key: str) -> list:
        if len(self._blocks) >= self.MAX_KEYS and key not in self._blocks:
            now = self._clock()
            self._blocks = {k: e for k, e in self._blocks.items() if e[2] > now or e[3]}
        entry = self._blocks.setdefault(key, [1, 0, 0.0, True])
        entry[3] = True
        return entry


def _item(policy: Policy) -> RateLimitItem:
    return RateLimitItemPerSecond(policy.quota, policy.window_seconds, namespace=policy.name)
