"""A ``limits`` storage in one SQLite file, for `make run`: every gunicorn worker of the API (and
the panel's) on one machine shares the counters without an extra server. Production runs Redis.

One counter is one row; ``incr`` is one atomic upsert (a window that has expired starts over), so
two workers never lose a hit. The file is in WAL mode without fsync: counters are not worth a disk
flush, and a crash only forgets a few seconds of them. Measured cost: docs/operations.md, "Rate limits".
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

from limits.storage import Storage

_SCHEMA = "CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL)"
_INCR = """
INSERT INTO counters (key, count, expires_at) VALUES (:key, :amount, :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN expires_at <= :now THEN :amount ELSE count + :amount END,
  expires_at = CASE WHEN expires_at <= :now THEN :now + :expiry ELSE expires_at END
RETURNING count, expires_at
"""
PURGE_EVERY = 10_000  # hits between two sweeps of expired counters


class SqliteStorage(Storage):
    """``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``, like SQLAlchemy's URLs."""

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._path = uri.removeprefix("sqlite:///")
        self._local = threading.local()
        self._hits = 0
        folder = os.path.dirname(self._path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with self._connection() as connection:
            connection.execute(_SCHEMA)

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self._path, timeout=1.0, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")
            self._local.connection = connection
        return connection

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self.incr_with_expiry(key, expiry, amount)[0]

    def incr_with_expiry(self, key: str, expiry: int, amount: int = 1) -> tuple[int, float]:
        """The count after this hit and when its window ends, in one statement (a hit per request)."""
        self._hits += 1
        if self._hits % PURGE_EVERY == 0:
            self._purge()
        count, expires_at = (
            self._connection()
            .execute(_INCR, {"key": key, "amount": amount, "now": time.time(), "expiry": expiry})
            .fetchone()
        )
        return int(count), float(expires_at)

    def get(self, key: str) -> int:
        row = (
            self._connection()
            .execute("SELECT count FROM counters WHERE key = ? AND expires_at > ?", (key, time.time()))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = (
            self._connection()
            .execute("SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?", (key, now))
            .fetchone()
        )
        return float(row[0]) if row else now

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        return self._connection().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counters WHERE key = ?", (key,))

    def _purge(self) -> None:
        self._connection().execute("DELETE FROM counters WHERE expires_at <= ?", (time.time(),))
