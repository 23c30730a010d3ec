"""``python -m gateway_api.webhooks`` as real processes against SQLite and MariaDB and a real receiver:
retries with the delivery log, SIGKILL mid-delivery, two replicas on one database, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from infra.kernel.contracts import TransactionResult
from infra.runtime.db import migrate
from infra.runtime.settings import Secret
from infra.stack.embedded_broker import free_port

from gateway_api import create_app
from gateway_api.adapters.delivery_queue import SqlDeliveryQueue
from gateway_api.domain.webhook_signature import verify
from gateway_api.migrations import SCRIPT_LOCATION
from gateway_api.settings import Settings
from tests.integration.gateway_api.support import ADMIN, ADMIN_TOKEN, WEBHOOK_SECRETS_KEY
from tests.support import wait_until
from tests.support.receiver import Answer, Receiver
from tests.support.transactions import TEST_CARD_KEYS

pytestmark = pytest.mark.slow


class DispatcherProcess:
    """One dispatcher process, its output kept in a file."""

    def __init__(self, database_url: str, log_path: Path, **env: str):
        self.metrics_port = free_port()
        self.log_path = log_path
        self.env = (
            os.environ
            | {
                "DATABASE_URL": database_url,
                "WEBHOOK_SECRETS_KEY": WEBHOOK_SECRETS_KEY,
                "WEBHOOK_ALLOW_PRIVATE_URLS": "true",
                "METRICS_PORT": str(self.metrics_port),
                "LOG_LEVEL": "INFO",
                "AUTO_MIGRATE": "false",
            }
            | env
        )
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gateway_api.webhooks"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def metric(self, name: str) -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as response:
            lines = response.read().decode().splitlines()
        return sum(float(line.split()[-1]) for line in lines if line.startswith(name))

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/readyz", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class Gateway:
    """The API on the same database (for endpoints and the delivery log) and the ledger the results
    consumer writes to (to decide transactions)."""

    def __init__(self, database_url: str, tmp_path: Path):
        migrate(database_url, SCRIPT_LOCATION)
        self.database_url, self.tmp_path = database_url, tmp_path
        self.app = create_app(
            Settings(
                admin_token=Secret(ADMIN_TOKEN),
                secret_pepper=Secret("e2e-pepper"),
                card_data_keys=TEST_CARD_KEYS,
                webhook_secrets_key=Secret(WEBHOOK_SECRETS_KEY),
                database_url=database_url,
                webhook_allow_private_urls=True,
                auto_migrate=False,
            )
        )
        self.client = self.app.test_client()
        self.dispatchers: list[DispatcherProcess] = []
        account = self.client.post("/v1/accounts", json={"name": "Webhook shop"}, headers=ADMIN).json
        self.merchant = (account["id"], account["secret"])

    def endpoint(self, url: str) -> dict:
        response = self.client.post(
            "/v1/webhook_endpoints", json={"url": url, "enabled_events": ["*"]}, auth=self.merchant
        )
        assert response.status_code == 201, response.json
        return response.json

    def decide(self, count: int, prefix: str = "tx") -> None:
        results = [
            TransactionResult(
                f"{prefix}-{i}",
                "approved" if i % 3 else "rejected",
                "" if i % 3 else "expired",
                self.merchant[0],
                "10.00",
                "visa",
                "1111",
                "2026-11-23T10:00:00Z",
                "2026-11-23T10:00:01Z",
            )
            for i in range(count)
        ]
        self.app.extensions["gateway_api"].ledger.apply_results(results)

    def events(self) -> list[dict]:
        found, after = [], None
        while True:
            query = {"limit": 100} | ({"starting_after": after} if after else {})
            page = self.client.get("/v1/events", query_string=query, auth=self.merchant).json
            found += page["data"]
            if not page["has_more"]:
                return found
            after = page["data"][-1]["id"]

    def deliveries(self, event_id: str) -> list[dict]:
        return self.client.get(f"/v1/events/{event_id}/deliveries", auth=self.merchant).json["data"]

    def all_delivered(self) -> bool:
        page = self.client.get("/v1/webhook_deliveries?limit=100", auth=self.merchant).json
        return {d["status"] for d in page["data"]} == {"delivered"}

    def dispatcher(self, **env: str) -> DispatcherProcess:
        dispatcher = DispatcherProcess(
            self.database_url, self.tmp_path / f"dispatcher-{len(self.dispatchers)}.log", **env
        )
        self.dispatchers.append(dispatcher)
        wait_until(
            lambda: dispatcher.ready() or dispatcher.process.poll() is not None,
            30,
            interval=0.1,
            message="the dispatcher's /readyz",
        )
        assert dispatcher.process.poll() is None, dispatcher.log_path.read_text()
        return dispatcher

    def close(self) -> None:
        for dispatcher in self.dispatchers:
            dispatcher.stop()
        self.app.extensions["gateway_api"].engine.dispose()


@pytest.fixture
def gateway(database_url, tmp_path):
    gateway = Gateway(database_url, tmp_path)
    yield gateway
    gateway.close()


def test_a_receiver_failing_twice_gets_the_event_on_the_third_attempt_and_the_log_shows_three(gateway):
    def fail_twice(number, _request):
        return Answer(503, body=b"warming up") if number < 2 else Answer(200)

    with Receiver(fail_twice) as receiver:
        secret = gateway.endpoint(receiver.url)["secret"]
        gateway.dispatcher(WEBHOOK_RETRY_SCHEDULE="1s,1s,1s")
        gateway.decide(1)
        wait_until(gateway.all_delivered, 20, interval=0.2, message="the delivery to succeed")
    assert len(receiver.requests) == 3
    assert all(verify(r.body, r.headers["Gateway-Signature"], secret) for r in receiver.requests)
    assert [r.headers["Gateway-Delivery-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    (event,) = gateway.events()
    assert {r.headers["Gateway-Event-Id"] for r in receiver.requests} == {event["id"]}
    assert receiver.requests[-1].event == event, "the receiver gets the event exactly as the API shows it"
    (delivery,) = gateway.deliveries(event["id"])
    assert (delivery["status"], delivery["attempt_count"]) == ("delivered", 3)
    attempts = delivery["attempts"]
    assert [(a["attempt"], a["outcome"], a["http_status"]) for a in attempts] == [
        (1, "http_error", 503),
        (2, "http_error", 503),
        (3, "delivered", 200),
    ]
    assert attempts[0]["response_body"] == "warming up" and attempts[0]["next_attempt_at"] is not None
    assert attempts[2]["next_attempt_at"] is None and all(a["duration_ms"] >= 0 for a in attempts)


def test_after_the_last_attempt_the_delivery_fails_and_a_resend_delivers_it(gateway):
    answers = {"status": 500}
    with Receiver(lambda n, r: Answer(answers["status"])) as receiver:
        gateway.endpoint(receiver.url)
        gateway.dispatcher(WEBHOOK_RETRY_SCHEDULE="1s")
        gateway.decide(1)
        (event,) = gateway.events()
        wait_until(
            lambda: gateway.deliveries(event["id"])[0]["status"] == "failed",
            20,
            interval=0.2,
            message="the delivery to fail after 2 attempts",
        )
        answers["status"] = 200
        assert gateway.client.post(f"/v1/events/{event['id']}/resend", auth=gateway.merchant).status_code == 202
        wait_until(
            lambda: [d["status"] for d in gateway.deliveries(event["id"])] == ["failed", "delivered"],
            20,
            interval=0.2,
            message="the resend to be delivered",
        )
    assert len(receiver.requests) == 3


def test_a_dispatcher_killed_mid_delivery_loses_nothing_after_a_restart(gateway):
    def hang_on_the_first(number, _request):
        return Answer(200, delay_s=30 if number == 0 else 0)

    with Receiver(hang_on_the_first) as receiver:
        gateway.endpoint(receiver.url)
        settings = {"WEBHOOK_TIMEOUT_SECONDS": "3", "WEBHOOK_LEASE_SECONDS": "6", "WEBHOOK_CONCURRENCY": "4"}
        first = gateway.dispatcher(**settings)
        gateway.decide(1, prefix="first")
        wait_until(lambda: receiver.requests, 15, message="the first delivery to reach the receiver")
        gateway.decide(20, prefix="more")
        wait_until(lambda: len(receiver.requests) >= 5, 15, message="more deliveries in flight")
        first.process.send_signal(signal.SIGKILL)
        assert first.process.wait(10) == -signal.SIGKILL
        assert not gateway.all_delivered(), "the kill happened mid-delivery"
        gateway.dispatcher(**settings)
        wait_until(gateway.all_delivered, 60, interval=0.5, message="every delivery after the lease expired")
    events = {event["id"] for event in gateway.events()}
    assert len(events) == 21 and set(receiver.event_ids()) == events


def test_two_dispatchers_on_one_database_deliver_every_event_once(gateway):
    with Receiver(lambda n, r: Answer(200, delay_s=0.01)) as receiver:
        gateway.endpoint(receiver.url)
        replicas = [gateway.dispatcher(WEBHOOK_CONCURRENCY="8"), gateway.dispatcher(WEBHOOK_CONCURRENCY="8")]
        gateway.decide(300)
        wait_until(
            lambda: len(receiver.requests) >= 300 and gateway.all_delivered(),
            60,
            interval=0.25,
            message="every event delivered",
        )
    ids = receiver.event_ids()
    assert len(ids) == len(set(ids)) == 300, "no delivery was sent twice"
    delivered = [replica.metric('gateway_webhooks_attempts_total{outcome="delivered"}') for replica in replicas]
    assert sum(delivered) == 300 and min(delivered) > 0, f"both replicas worked: {delivered}"


def test_sigterm_finishes_the_delivery_in_hand_gives_back_the_unsent_ones_and_exits_0(gateway):
    with Receiver(lambda n, r: Answer(200, delay_s=1.5)) as receiver:
        gateway.endpoint(receiver.url)
        dispatcher = gateway.dispatcher(WEBHOOK_CONCURRENCY="1")  # one sending, one waiting in the pool
        gateway.decide(3)
        wait_until(lambda: receiver.requests, 15, message="the first delivery to start")
        dispatcher.process.send_signal(signal.SIGTERM)
        assert dispatcher.process.wait(15) == 0, dispatcher.log_path.read_text()[-2000:]
    deliveries = gateway.client.get("/v1/webhook_deliveries", auth=gateway.merchant).json["data"]
    statuses = sorted(d["status"] for d in deliveries)
    assert statuses == ["delivered", "pending", "pending"] and len(receiver.requests) == 1
    queue = SqlDeliveryQueue(gateway.app.extensions["gateway_api"].engine)
    claimable = queue.claim(10, datetime.now(timezone.utc).replace(tzinfo=None), timedelta(seconds=60))
    assert len(claimable) == 2, "the unsent deliveries' leases were given back, not left to expire"


def test_before_its_migration_the_dispatcher_waits_alive_but_not_ready(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    dispatcher = DispatcherProcess(url, tmp_path / "dispatcher.log")
    try:
        wait_until(lambda: _status(dispatcher, "/healthz") == 200, 30, interval=0.1, message="/healthz")
        assert _status(dispatcher, "/readyz") == 503
        migrate(url, SCRIPT_LOCATION)
        wait_until(dispatcher.ready, 15, interval=0.1, message="ready once migrated")
    finally:
        dispatcher.stop()


def _status(dispatcher: DispatcherProcess, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{dispatcher.metrics_port}{path}", timeout=1) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0
