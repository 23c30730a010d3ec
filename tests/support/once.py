"""One pytest worker at a time: fetching a tool into the virtualenv's cache while another worker reads it."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def one_worker_at_a_time(cache: Path) -> Iterator[None]:
    """Hold an exclusive lock next to ``cache`` (a file or folder): check and fill the cache inside it.

    With pytest-xdist several workers reach an empty cache together; the first fills it, the others wait
    for the lock, then find it filled. The lock is released when the process ends, even on a SIGKILL.
    """
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.parent / f".{cache.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
