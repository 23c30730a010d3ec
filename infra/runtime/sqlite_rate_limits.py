"""A ``limits`` storage in one SQLite file, for `make run`: every gunicorn worker of the API (and
the panel's) on one machine shares the counters without an extra server. Production runs Redis.

One counter is one row; ``incr`` is one atomic upsert (a window that has expired starts over), so
two workers never lose a hit. The file is in WAL mode without fsync: counters are not worth a disk
flush, and a crash only forgets a few seconds of them. Measured cost: docs/operations.md, "Rate limits".

Writers queue for the file: a thread lock within a process, then ``flock`` on a lock file beside
the database between processes, both woken when the lock is free. SQLite's own busy handler sleeps
and retries (1, 2, 5... 100 ms), which is unfair: with a few dozen threads writing, one could sleep
out its whole busy timeout while the others kept taking the lock, and its hit failed ("database is
locked"), so the request passed uncounted (the limiter lets a request through when its store fails).
Reads take only their process's turn (its one connection), never the file's: in WAL mode readers
never wait for the writer.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from limits.storage import Storage

from infra.runtime.process_id import current_pid

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

    def __init__(self, uri: str, wrap_exceptions: bool = False, busy_timeout: float = 1.0, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._path = uri.removeprefix("sqlite:///")
        self._busy_timeout = busy_timeout
        self._hits = 0
        # One connection per process, for its writers one at a time (a connection made before a fork
        # is never used by the child: it opens its own, and its own lock file).
        self._pid: int | None = None
        self._shared: sqlite3.Connection | None = None
        self._lock_file: int | None = None
        self._turn = threading.Lock()
        # Nothing is created before the first hit or read: a process that never counts a request (a
        # CLI command building the same services) leaves no var/ directory in its working directory.

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        if self._pid != current_pid():
            with self._turn:
                if self._pid != current_pid():
                    self._open()
        assert self._shared is not None, "opened above"
        return self._shared

    def _open(self) -> None:
        folder = os.path.dirname(self._path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        connection = sqlite3.connect(
            self._path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        lock_file = os.open(f"{self._path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # the file's writers' turn, as for any write
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")
            connection.execute(_SCHEMA)
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
        self._shared = connection
        self._lock_file = lock_file
        self._pid = current_pid()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The process's connection, to this thread alone while it reads (no other process waits)."""
        connection = self._connection()
        with self._turn:
            yield connection

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """The process's connection, once this thread's turn to write has come."""
        connection = self._connection()
        lock_file = self._lock_file
        assert lock_file is not None, "opened with the connection"
        with self._turn:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield connection
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self.incr_with_expiry(key, expiry, amount)[0]

    def incr_with_expiry(self, key: str, expiry: int, amount: int = 1) -> tuple[int, float]:
        """The count after this hit and when its window ends, in one statement (a hit per request)."""
        self._hits += 1
        if self._hits % PURGE_EVERY == 0:
            self._purge()
        with self._writing() as connection:
            count, expires_at = connection.execute(
                _INCR, {"key": key, "amount": amount, "now": time.time(), "expiry": expiry}
            ).fetchone()
        return int(count), float(expires_at)

    def get(self, key: str) -> int:
        with self._reading() as connection:
            row = connection.execute(
                "SELECT count FROM counters WHERE key = ? AND expires_at > ?", (key, time.time())
            ).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with self._reading() as connection:
            row = connection.execute(
                "SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?", (key, now)
            ).fetchone()
        return float(row[0]) if row else now

    def check(self) -> bool:
        try:
            with self._reading() as connection:
                connection.execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        with self._writing() as connection:
            return connection.execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        with self._writing() as connection:
            connection.execute("DELETE FROM counters WHERE key = ?", (key,))

    def _purge(self) -> None:
        with self._writing() as connection:
            connection.execute("DELETE FROM counters WHERE expires_at <= ?", (time.time(),))
