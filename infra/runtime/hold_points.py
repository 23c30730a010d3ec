"""A test seam for crash tests: hold a consumer at a named point of its batch loop.

The batch loop calls its checkpoint at two points of every batch: ``polled`` (the batch is in hand,
nothing of it stored) and ``handled`` (stored and published, its offsets not committed yet). In
production there is no checkpoint at all. A process started with a hold directory (the processor's
PROCESSOR_TEST_HOLD_DIR) gets :class:`HoldPoints`: when ``<dir>/<point>.hold`` exists, the process
writes the batch's positions to ``<dir>/<point>.reached`` and waits until the hold file is gone.

A test creates the hold file, waits for the reached file and then acts inside that exact window
(SIGKILL between the DB commit and the offset commit, SIGTERM with a batch in hand), instead of
hoping that a signal sent at some moment lands there.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from confluent_kafka import Message


class HoldPoints:
    def __init__(self, directory: Path, poll_interval: float = 0.01):
        self._directory = Path(directory)
        self._poll_interval = poll_interval

    def __call__(self, point: str, batch: Sequence[Message]) -> None:
        hold = self._directory / f"{point}.hold"
        if not hold.exists():
            return
        positions = [[m.topic(), m.partition(), m.offset()] for m in batch]
        reached = self._directory / f"{point}.reached"
        partial = reached.with_suffix(".partial")
        partial.write_text(json.dumps(positions))
        os.replace(partial, reached)  # the test never reads a half-written file
        while hold.exists():
            time.sleep(self._poll_interval)  # signal handlers still run while it waits
