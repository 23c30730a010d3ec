"""SIGKILL under load: API workers, the processor and the results consumer die mid-stream.

Merchants keep paying with an Idempotency-Key each and retry (same key) whatever goes wrong, as the
API tells them to. Afterwards every key has exactly one transaction, every transaction answered 202
is in the ledger with its final status, the processor decided each id once, and the ledger holds
nothing that no merchant was told about.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import pytest
import requests
import sqlalchemy

from infra.stack import Stack

from tests.e2e.helpers import basic_auth, card
from tests.support import wait_until
from tests.support.stack import load_test_merchant, stack_settings_for_tests, started_stack

pytestmark = pytest.mark.slow

CLIENTS = 6
LOAD_SECONDS = 9


@pytest.fixture
def stack(kafka_bootstrap, tmp_path):
    yield from started_stack(stack_settings_for_tests(tmp_path, kafka_bootstrap))


class Merchant(threading.Thread):
    """Pays until told to stop; retries each payment with its key until it gets a 202."""

    def __init__(self, url: str, auth: dict, stop: threading.Event):
        super().__init__(daemon=True)
        self._url, self._auth, self._halt = url, auth, stop
        self.answers: dict[str, set[str]] = {}  # key -> transaction ids answered 202 (must be one)
        self.retries = 0

    def run(self) -> None:
        while not self._halt.is_set():
            key = uuid.uuid4().hex
            self.answers[key] = set()
            while not self._pay(key):
                self.retries += 1
                time.sleep(0.05)

    def _pay(self, key: str) -> bool:
        body = {"amount": "10.50", "credit_card": card()}
        try:
            response = requests.post(
                f"{self._url}/v1/transactions", json=body, timeout=10, headers={**self._auth, "Idempotency-Key": key}
            )
        except requests.RequestException:  # the worker died with the connection
            return False
        if response.status_code == 202:
            self.answers[key].add(response.json()["id"])
            return True
        return False


def api_workers(stack: Stack) -> list[int]:
    master = next(p for p in stack.processes if p.name == "api").pid
    return [pid for pid in _pids() if _parent(pid) == master]


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def kill_and_restart(stack: Stack, name: str) -> None:
    process = next(p for p in stack.processes if p.name == name)
    process.signal(signal.SIGKILL)
    assert process.wait(10)
    process.restart()


def test_sigkill_of_api_workers_processor_and_results_consumer_loses_nothing_and_decides_nothing_twice(stack):
    merchant = load_test_merchant(stack, "Crash shop")
    auth = basic_auth(merchant)
    stop = threading.Event()
    merchants = [Merchant(stack.settings.api_url, auth, stop) for _ in range(CLIENTS)]
    for m in merchants:
        m.start()
    chaos = [
        (1.5, lambda: os.kill(api_workers(stack)[0], signal.SIGKILL)),
        (3.0, lambda: kill_and_restart(stack, "processor")),
        (4.5, lambda: kill_and_restart(stack, "results")),
        (6.0, lambda: [os.kill(pid, signal.SIGKILL) for pid in api_workers(stack)]),
    ]
    started = time.monotonic()
    for at, action in chaos:
        time.sleep(max(0.0, started + at - time.monotonic()))
        action()
    time.sleep(max(0.0, started + LOAD_SECONDS - time.monotonic()))
    stop.set()
    for m in merchants:
        m.join(60)

    answers = {key: ids for m in merchants for key, ids in m.answers.items()}
    assert all(len(ids) == 1 for ids in answers.values()), "a key answered with two transaction ids"
    answered = {next(iter(ids)) for ids in answers.values()}
    assert len(answered) == len(answers) > 100, f"only {len(answered)} payments under load"
    assert sum(m.retries for m in merchants) > 0, "no request was cut by the kills: the test proves nothing"

    ledger = sqlalchemy.create_engine(stack.settings.gateway_db)
    processor = sqlalchemy.create_engine(stack.settings.processor_db)
    wait_until(lambda: _still_pending(ledger) == 0, 90, interval=0.5, message="every transaction decided")
    with ledger.connect() as connection:
        rows = dict(connection.exec_driver_sql("SELECT id, status FROM gateway_transactions").all())
    with processor.connect() as connection:
        decided = connection.exec_driver_sql("SELECT id, status FROM transactions").all()
    assert set(rows) == answered  # nothing lost, and no row a merchant was not answered for
    assert len(decided) == len({id_ for id_, _ in decided}) == len(answered)  # each id decided once
    assert dict(decided) == rows  # the ledger shows the processor's one outcome
    assert requests.get(f"{stack.settings.api_url}/readyz", timeout=10).status_code == 200  # workers respawned


def _still_pending(engine) -> int:
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT COUNT(*) FROM gateway_transactions WHERE status = 'pending'").scalar()
