"""The SQLite rate-limit store of `make run` (infra.runtime.sqlite_rate_limits), hit at once by the
threads of several processes, as gunicorn's workers hit it under load."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading

from infra.runtime.sqlite_rate_limits import SqliteStorage

PROCESSES, THREADS, HITS = 3, 16, 150


def _hammer(url: str, busy_timeout: float, failures) -> None:
    storage = SqliteStorage(url, busy_timeout=busy_timeout)
    failed = []

    def hits() -> None:
        for _ in range(HITS):
            try:
                storage.incr("account/acct_1", 60)
            except sqlite3.OperationalError as exc:
                failed.append(str(exc))

    threads = [threading.Thread(target=hits) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failures.put(failed)


def test_writers_of_many_processes_wait_their_turn_instead_of_failing(tmp_path):
    """SQLite's own busy handler sleeps and retries, unfairly: under contention a writer could sleep
    out its whole busy timeout while others kept the lock, and its hit failed ('database is locked'),
    so the request passed uncounted (the limiter fails open when its store fails). Writers now queue
    for the file's write lock (a blocking lock, woken when it is free): a timeout far shorter than
    the run loses no hit."""
    url = f"sqlite:///{tmp_path}/rate-limits.db"
    SqliteStorage(url)  # the table
    context = multiprocessing.get_context("fork")
    failures = context.Queue()
    processes = [context.Process(target=_hammer, args=(url, 0.005, failures)) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    failed = [message for _ in processes for message in failures.get(timeout=120)]
    for process in processes:
        process.join(30)
    assert failed == []
    assert SqliteStorage(url).get("account/acct_1") == PROCESSES * THREADS * HITS


def test_a_store_made_before_a_fork_writes_through_its_own_connection_in_the_child(tmp_path):
    """gunicorn may build the app (and its limiter) before forking its workers: each child opens its
    own connection and lock file instead of sharing the parent's."""
    url = f"sqlite:///{tmp_path}/rate-limits.db"
    storage = SqliteStorage(url)
    storage.incr("k", 60)
    context = multiprocessing.get_context("fork")
    failures = context.Queue()

    def child() -> None:
        try:
            for _ in range(100):
                storage.incr("k", 60)
            failures.put([])
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            failures.put([repr(exc)])

    process = context.Process(target=child)
    process.start()
    for _ in range(100):
        storage.incr("k", 60)
    assert failures.get(timeout=60) == []
    process.join(30)
    assert storage.get("k") == 201
