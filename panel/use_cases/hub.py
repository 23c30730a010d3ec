"""Fan-out of live results (payments, and refunds as ``kind="refund"``) to the SSE streams of one
panel process.

Every process consumes every result (see ``panel.entrypoints.results_reader``) and publishes it
here; each stream subscribes with a filter (a merchant's own account, or an operator's optional
merchant filter). A short replay buffer lets a stream that reconnects to the same process resume
exactly after its ``Last-Event-ID``; a stream that cannot (another replica, a restarted process, a
slow client that fell behind) is told to resynchronise from the gateway API's ledger.

Every open stream holds one of the process's threads (gunicorn gthread, 64 per worker), so streams
are capped: ``STREAMS_PER_SESSION`` per signed-in session (a few tabs) and ``STREAMS_PER_PROCESS`` in
all, which leaves threads for pages and API calls however many streams are asked for.
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from panel.domain.fair_shares import OPERATOR_RESERVED_STREAMS


@dataclass(frozen=True)
class LiveEvent:
    event_id: str
    account_id: str
    data: dict
    kind: str = "result"  # the SSE event name: "result" (a payment) or "refund"


# What a stream receives besides events: time to say something (heartbeat), or the end.
RESYNC = "resync"
CLOSED = "closed"

STREAMS_PER_SESSION = 4
STREAMS_PER_PROCESS = 56

# Longest sequence number a Last-Event-ID may carry: int() of longer digit strings is refused or slow.
_MAX_SEQUENCE_DIGITS = 18


class TooManyStreams(Exception):
    """The session (``per_session``) or the whole process already has as many streams as it may."""

    def __init__(self, per_session: bool):
        super().__init__("session" if per_session else "process")
        self.per_session = per_session


class Subscription:
    def __init__(self, accepts: Callable[[LiveEvent], bool], capacity: int, owner: str = "", operator: bool = False):
        self.accepts = accepts
        self.owner = owner
        self.operator = operator
        self._queue: queue.Queue = queue.Queue(capacity)
        self._fell_behind = False
        self._closed = False

    def close(self) -> None:
        self._closed = True
        try:
            self._queue.put_nowait(CLOSED)  # wakes a stream waiting in next_event()
        except queue.Full:
            pass

    def offer(self, item) -> None:
        if isinstance(item, LiveEvent) and not self.accepts(item):
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            # A slow client: drop events rather than memory, and make it reload from the ledger.
            self._fell_behind = True

    def next_event(self, timeout: float):
        """The next event, ``RESYNC``, ``CLOSED``, or None when nothing came within ``timeout``."""
        if self._closed:
            return CLOSED
        if self._fell_behind and self._queue.empty():
            self._fell_behind = False
            return RESYNC
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None


class Hub:
    def __init__(
        self,
        replay_size: int = 2000,
        subscriber_capacity: int = 5000,
        per_session: int = STREAMS_PER_SESSION,
        per_process: int = STREAMS_PER_PROCESS,
        operator_reserved: int = OPERATOR_RESERVED_STREAMS,
    ):
        self.boot_id = uuid.uuid4().hex[:12]
        self._replay: deque[tuple[int, LiveEvent]] = deque(maxlen=replay_size)
        self._subscribers: set[Subscription] = set()
        self._capacity = subscriber_capacity
        self._per_session = per_session
        self._per_process = per_process
        self._operator_reserved = operator_reserved
        self._seq = 0
        self._closed = False
        self._lock = threading.Lock()

    def publish(self, account_id: str, data: dict, kind: str = "result") -> LiveEvent:
        with self._lock:
            self._seq += 1
            event = LiveEvent(f"{self.boot_id}-{self._seq}", account_id, data, kind)
            self._replay.append((self._seq, event))
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            subscription.offer(event)
        return event

    def subscribe(
        self,
        accepts: Callable[[LiveEvent], bool],
        last_event_id: str | None = None,
        owner: str = "",
        operator: bool = False,
    ) -> Subscription:
        """A new subscription, first fed what it missed since ``last_event_id`` when that is known.

        Raises ``TooManyStreams`` when ``owner`` (a session) or the process is at its cap; merchants'
        streams stop ``operator_reserved`` short of the process's cap, which only the operator's reach."""
        subscription = Subscription(accepts, self._capacity, owner, operator)
        with self._lock:
            if self._closed:
                subscription.close()
                return subscription
            self._check_caps(owner, operator)
            if last_event_id:
                self._replay_after(subscription, last_event_id)
            self._subscribers.add(subscription)
        return subscription

    def _check_caps(self, owner: str, operator: bool) -> None:
        if len(self._subscribers) >= self._per_process:
            raise TooManyStreams(per_session=False)
        merchants = sum(1 for s in self._subscribers if not s.operator)
        if not operator and merchants >= self._per_process - self._operator_reserved:
            raise TooManyStreams(per_session=False)
        if owner and sum(1 for s in self._subscribers if s.owner == owner) >= self._per_session:
            raise TooManyStreams(per_session=True)

    def _replay_after(self, subscription: Subscription, last_event_id: str) -> None:
        seq = self._own_sequence(last_event_id)
        oldest = self._replay[0][0] if self._replay else self._seq + 1
        if seq is None or seq + 1 < oldest:
            subscription.offer(RESYNC)
            return
        for number, event in self._replay:
            if number > seq:
                subscription.offer(event)

    def _own_sequence(self, event_id: str) -> int | None:
        """The sequence number of an id this process gave out, else None (the client resyncs).

        Last-Event-ID is whatever the client sends: only ASCII digits are read ("²".isdigit() is
        true, int("²") fails), and not too many of them (int() refuses 4,300 digits and more)."""
        boot_id, _, number = event_id.rpartition("-")
        if boot_id != self.boot_id or not (number.isascii() and number.isdigit()):
            return None
        if len(number) > _MAX_SEQUENCE_DIGITS or int(number) > self._seq:
            return None
        return int(number)

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)

    def close(self) -> None:
        """End every stream (the process is shutting down); clients reconnect elsewhere."""
        with self._lock:
            self._closed = True
            subscribers = list(self._subscribers)
            self._subscribers.clear()
        for subscription in subscribers:
            subscription.close()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
