"""Stream leases in the store the rate limits use (RATE_LIMIT_STORAGE_URL): Redis (one sorted set per
holder, scored by expiry, checked and taken in one Lua script), one SQLite file (`make run`: every
worker on the machine) or this process's memory (tests, a single worker)."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time

import redis

from panel.use_cases.ports import StreamLeases

_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""
TIMEOUT_SECONDS = 0.5
log = logging.getLogger(__name__)


def stream_leases(url: str, key_prefix: str = "panel") -> StreamLeases:
    if url.startswith(("redis://", "rediss://")):
        return RedisStreamLeases(url, key_prefix)
    if url.startswith("sqlite:///"):
        return SqliteStreamLeases(url.removeprefix("sqlite:///"))
    return MemoryStreamLeases()


class RedisStreamLeases(StreamLeases):
    def __init__(self, url: str, key_prefix: str):
        self._client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS)
        self._acquire = self._client.register_script(_ACQUIRE)
        self._prefix = key_prefix

    def _key(self, holder: str) -> str:
        return f"{self._prefix}:streams:{holder}"

    def acquire(self, holder: str, lease_id: str, cap: int, seconds: float) -> bool:
        now = time.time()
        try:
            return bool(
                self._acquire(keys=[self._key(holder)], args=[now, now + seconds, cap, lease_id, int(seconds) + 1])
            )
        except redis.RedisError as exc:  # the live view matters more than counting it
            log.warning("stream lease store unavailable: stream allowed", extra={"error_class": type(exc).__name__})
            return True

    def renew(self, holder: str, lease_id: str, seconds: float) -> None:
        try:
            self._client.zadd(self._key(holder), {lease_id: time.time() + seconds}, xx=True)
        except redis.RedisError:
            pass  # the lease lapses; the stream goes on

    def release(self, holder: str, lease_id: str) -> None:
        try:
            self._client.zrem(self._key(holder), lease_id)
        except redis.RedisError:
            pass  # it lapses by itself


class SqliteStreamLeases(StreamLeases):
    def __init__(self, path: str):
        self._path = path
        self._local = threading.local()
        if os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
        self._connection().execute(
            "CREATE TABLE IF NOT EXISTS stream_leases (holder TEXT NOT NULL, "
            "lease_id TEXT NOT NULL, expires_at REAL NOT NULL, PRIMARY KEY (holder, lease_id))"
        )

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self._path, timeout=2.0, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            self._local.connection = connection
        return connection

    def acquire(self, holder: str, lease_id: str, cap: int, seconds: float) -> bool:
        connection, now = self._connection(), time.time()
        connection.execute("BEGIN IMMEDIATE")  # one writer at a time: the count and the insert are one step
        try:
            connection.execute("DELETE FROM stream_leases WHERE holder = ? AND expires_at <= ?", (holder, now))
            (held,) = connection.execute("SELECT count(*) FROM stream_leases WHERE holder = ?", (holder,)).fetchone()
            if held < cap:
                connection.execute(
                    "INSERT OR REPLACE INTO stream_leases VALUES (?, ?, ?)", (holder, lease_id, now + seconds)
                )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return held < cap

    def renew(self, holder: str, lease_id: str, seconds: float) -> None:
        self._connection().execute(
            "UPDATE stream_leases SET expires_at = ? WHERE holder = ? AND lease_id = ?",
            (time.time() + seconds, holder, lease_id),
        )

    def release(self, holder: str, lease_id: str) -> None:
        self._connection().execute("DELETE FROM stream_leases WHERE holder = ? AND lease_id = ?", (holder, lease_id))


class MemoryStreamLeases(StreamLeases):
    def __init__(self):
        self._leases: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, holder: str, lease_id: str, cap: int, seconds: float) -> bool:
        now = time.time()
        with self._lock:
            leases = self._leases.setdefault(holder, {})
            for expired in [lease for lease, until in leases.items() if until <= now]:
                del leases[expired]
            if len(leases) >= cap:
                return False
            leases[lease_id] = now + seconds
            return True

    def renew(self, holder: str, lease_id: str, seconds: float) -> None:
        with self._lock:
            if lease_id in self._leases.get(holder, {}):
                self._leases[holder][lease_id] = time.time() + seconds

    def release(self, holder: str, lease_id: str) -> None:
        with self._lock:
            self._leases.get(holder, {}).pop(lease_id, None)
