"""Rounds of refunds against a running stack, with kills on a timer: shared by the acceptance test
(tests/e2e/test_refunds_under_crashes.py) and ``make bench-refunds``.

A round is one approved payment and 5-20 refund requests of random amounts (some without an amount:
"everything left"), fired at once from as many threads, half of them with an Idempotency-Key (retried
with it whatever goes wrong), through the API's port, which the kernel spreads over both workers.
Rounds run back to back on a few runners while a timer SIGKILLs and restarts the processor and the
results consumer. ``check`` then proves, for every round: sum(succeeded) <= approved, every refund
final, none applied twice, and the ledger's amount_refunded equal to the processor's sum.
"""

from __future__ import annotations

import json
import random
import signal
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

import requests
import sqlalchemy

from infra.stack import Stack

CENT = Decimal("0.01")
MAX_REFUNDS_PER_ROUND = 20


@dataclass
class Round:
    transaction_id: str
    approved_cents: int
    answered: dict[str, set[str]] = field(default_factory=dict)  # request -> refund ids answered 202


@dataclass
class Tally:
    rounds: list[Round] = field(default_factory=list)
    kills: int = 0
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class RoundRunner(threading.Thread):
    def __init__(
        self, api_url: str, auth: dict, tally: Tally, stop: threading.Event, seed: int, max_rounds: int | None = None
    ):
        super().__init__(daemon=True)
        self._url, self._auth, self._tally, self._halt = api_url, auth, tally, stop
        self._random = random.Random(seed)
        self._max_rounds = max_rounds
        self._session = requests.Session()
        # One pool for all rounds, each thread with its own kept-alive connection: a round's requests still
        # go out at once (a barrier) and the kernel still spreads the connections over both API workers.
        self._pool = ThreadPoolExecutor(MAX_REFUNDS_PER_ROUND, thread_name_prefix="refund")
        self._sessions = threading.local()
        self._opened: list[requests.Session] = []  # closed when the runner ends: no socket left to the GC

    def run(self) -> None:
        done = 0
        while not self._halt.is_set() and (self._max_rounds is None or done < self._max_rounds):
            one = self._one_round()
            if one is not None:
                with self._tally.lock:
                    self._tally.rounds.append(one)
                done += 1
        self._pool.shutdown()
        for session in [self._session, *self._opened]:
            session.close()

    def _one_round(self) -> Round | None:
        cents = self._random.randint(100, 100_000)
        transaction_id = self._approved_payment(cents)
        if transaction_id is None:
            return None
        one = Round(transaction_id, cents)
        count = self._random.randint(5, MAX_REFUNDS_PER_ROUND)
        asks = [
            None if self._random.random() < 0.15 else self._random.randint(1, max(1, cents // 3)) for _ in range(count)
        ]
        keyed = [self._random.random() < 0.5 for _ in range(count)]
        barrier = threading.Barrier(count)
        answers = list(self._pool.map(lambda i: self._refund(transaction_id, asks[i], keyed[i], barrier), range(count)))
        one.answered = {f"request-{i}": ids for i, ids in enumerate(answers)}
        return one

    def _approved_payment(self, cents: int) -> str | None:
        key = uuid.uuid4().hex
        body = {"amount": str((Decimal(cents) / 100).quantize(CENT)), "credit_card": _card()}
        transaction_id = None
        deadline = time.monotonic() + 120
        while transaction_id is None and time.monotonic() < deadline and not self._halt.is_set():
            response = self._post("/v1/transactions", body, key)
            transaction_id = response.json()["id"] if response is not None and response.status_code == 202 else None
        pause = 0.02  # then longer: while a killed consumer restarts, polls would only take the API's CPU
        while transaction_id and time.monotonic() < deadline and not self._halt.is_set():
            got = self._get(f"/v1/transactions/{transaction_id}")
            if got is not None and got.get("status") == "approved":
                return transaction_id
            time.sleep(pause)
            pause = min(pause * 1.5, 0.25)
        return None

    def _refund(self, transaction_id: str, cents: int | None, keyed: bool, barrier: threading.Barrier) -> set[str]:
        body = {"transaction": transaction_id, "reason": "requested_by_customer"}
        if cents is not None:
            body["amount"] = str((Decimal(cents) / 100).quantize(CENT))
        key = uuid.uuid4().hex if keyed else None
        barrier.wait(30)
        ids: set[str] = set()
        for _ in range(100):
            response = self._post("/v1/refunds", body, key, self._thread_session())
            if response is not None and response.status_code == 202:
                ids.add(response.json()["id"])
                return ids
            if not keyed:
                return ids  # without a key a retry would be another refund: the merchant gives up
            with self._tally.lock:
                self._tally.retries += 1
            time.sleep(0.05)
        return ids

    def _thread_session(self) -> requests.Session:
        if not hasattr(self._sessions, "session"):
            self._sessions.session = requests.Session()
            self._opened.append(self._sessions.session)  # list.append is atomic: threads need no lock
        return self._sessions.session

    def _post(self, path: str, body: dict, key: str | None, session: requests.Session | None = None):
        headers = {**self._auth, **({"Idempotency-Key": key} if key else {})}
        try:
            return (session or self._session).post(f"{self._url}{path}", json=body, headers=headers, timeout=15)
        except requests.RequestException:  # a worker died with the connection
            return None

    def _get(self, path: str) -> dict | None:
        try:
            response = self._session.get(f"{self._url}{path}", headers=self._auth, timeout=15)
            return response.json() if response.status_code == 200 else None
        except (requests.RequestException, ValueError):
            return None


def _card() -> dict:
    return {
        "number": "4111111111111111",
        "name": "Ada Lovelace",
        "expiration_month": 12,
        "expiration_year": time.gmtime().tm_year + 2,
        "cvv": "731",
    }


class Killer(threading.Thread):
    """SIGKILLs and restarts the processor and the results consumer in turn, every ``every`` seconds."""

    def __init__(self, stack: Stack, tally: Tally, stop: threading.Event, every: float = 3.0):
        super().__init__(daemon=True)
        self._stack, self._tally, self._halt, self._every = stack, tally, stop, every

    def run(self) -> None:
        names = ("processor", "results")
        turn = 0
        while not self._halt.wait(self._every):
            process = next(p for p in self._stack.processes if p.name == names[turn % 2])
            process.signal(signal.SIGKILL)
            process.wait(10)
            process.restart()
            turn += 1
            with self._tally.lock:
                self._tally.kills += 1


@dataclass
class Verdict:
    rounds: int
    refunds_decided: int
    succeeded: int
    kills: int
    over_refunds: int
    problems: list[str]


def wait_for_final(ledger_url: str, timeout: float) -> int:
    """Wait until no refund is pending in the ledger; returns how many still are."""
    engine = sqlalchemy.create_engine(ledger_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as connection:
                pending = connection.exec_driver_sql(
                    "SELECT COUNT(*) FROM gateway_refunds WHERE status = 'pending'"
                ).scalar()
            if pending == 0 or time.monotonic() > deadline:
                return pending
            time.sleep(0.5)
    finally:
        engine.dispose()


def check(tally: Tally, ledger_url: str, processor_url: str) -> Verdict:
    ledger_rows, amount_refunded, events = _ledger(ledger_url)
    processor_rows, balances = _processor(processor_url)
    problems: list[str] = []
    over = 0
    decided = succeeded = 0
    for one in tally.rounds:
        answered = {rid for ids in one.answered.values() for rid in ids}
        if any(len(ids) > 1 for ids in one.answered.values()):
            problems.append(f"{one.transaction_id}: a key answered two refund ids")
        mine = {rid: row for rid, row in ledger_rows.items() if row[0] == one.transaction_id}
        theirs = {rid: row for rid, row in processor_rows.items() if row[0] == one.transaction_id}
        decided += len(theirs)
        if not answered <= set(mine):
            problems.append(f"{one.transaction_id}: refunds answered 202 missing from the ledger")
        if any(row[1] == "pending" for row in mine.values()):
            problems.append(f"{one.transaction_id}: a refund is not final")
        if mine != theirs:
            problems.append(f"{one.transaction_id}: the ledger's refunds differ from the processor's")
        processor_sum = sum(row[2] or 0 for row in theirs.values() if row[1] == "succeeded")
        succeeded += sum(1 for row in theirs.values() if row[1] == "succeeded")
        if processor_sum > one.approved_cents or balances.get(one.transaction_id, 0) > one.approved_cents:
            over += 1
        if balances.get(one.transaction_id, 0) != processor_sum:
            problems.append(
                f"{one.transaction_id}: the balance is not the sum of the succeeded refunds (applied twice?)"
            )
        if amount_refunded.get(one.transaction_id, 0) != processor_sum:
            problems.append(f"{one.transaction_id}: amount_refunded differs from the processor's sum")
    final_ids = {rid for rid, row in ledger_rows.items() if row[1] != "pending"}
    if len(events) != len(set(events)) or set(events) != final_ids:
        problems.append(f"refund events: {len(events)} for {len(final_ids)} final refunds (one each expected)")
    return Verdict(len(tally.rounds), decided, succeeded, tally.kills, over, problems)


def _ledger(url: str):
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = {
                r[0]: (r[1], r[2], r[3])
                for r in connection.exec_driver_sql(
                    "SELECT id, transaction_id, status, amount_cents FROM gateway_refunds"
                )
            }
            events = connection.exec_driver_sql(
                "SELECT payload FROM gateway_events WHERE type IN ('refund.succeeded', 'refund.failed')"
            ).all()
    finally:
        engine.dispose()
    refunded: dict[str, int] = defaultdict(int)
    for transaction_id, status, cents in rows.values():
        if status == "succeeded":
            refunded[transaction_id] += cents
    return rows, refunded, [json.loads(payload)["data"]["object"]["id"] for (payload,) in events]


def _processor(url: str):
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = {
                r[0]: (r[1], r[2], r[3])
                for r in connection.exec_driver_sql("SELECT id, transaction_id, status, amount_cents FROM refunds")
            }
            balances = dict(
                connection.exec_driver_sql("SELECT transaction_id, refunded_cents FROM refund_balances").all()
            )
    finally:
        engine.dispose()
    return rows, balances
