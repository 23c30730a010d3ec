"""The API under gunicorn and the results consumer as real processes, started the way the stack does.

Proves the gunicorn config (workers, multiprocess /metrics), the commands' environment variables,
and that neither log lines nor database rows of the run hold a card number or a CVV.
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from infra.contracts import TransactionResult
from infra.embedded_broker import free_port
from infra.kafka import Record, build_acked_producer

from tests.support import wait_until
from tests.support.secrets import STRONG_SECRETS
from tests.integration.gateway_api.support import ADMIN_TOKEN, TEST_CARD, TEST_CVV, transaction_body

BIN = Path(sys.executable).parent


@pytest.fixture
def env(kafka_settings, tmp_path):
    prefix = kafka_settings.topics.transactions[: -len("transactions")]
    return os.environ | {
        **STRONG_SECRETS, "GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}", "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": prefix, "WEB_CONCURRENCY": "2", "LOG_LEVEL": "INFO",
    }


class Process:
    def __init__(self, args, env, log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.popen = subprocess.Popen(args, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> int:
        """SIGTERM, as the stack's Ctrl-C does; the exit code (idempotent)."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(15)
        finally:
            if self.popen.poll() is None:
                self.popen.kill()
                self.popen.wait()
            self._log.close()

    def lines(self) -> list[str]:
        return self.log_path.read_text().splitlines()


@pytest.fixture
def api(env, tmp_path):
    port = free_port()
    process = Process([str(BIN / "gunicorn"), "-c", "python:gateway_api.gunicorn_conf", "gateway_api:create_app()",
                       "--bind", f"127.0.0.1:{port}"], env, tmp_path / "api.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(url + "/healthz") or process.popen.poll() is not None, 30, message="gunicorn up")
        assert process.popen.poll() is None, process.log_path.read_text()
        yield url, process
    finally:
        process.stop()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:  # not listening yet, or a worker still booting
        return False


def metric(text: str, name: str) -> float:
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + " ")
              or line.startswith(name + "{")]
    return sum(values)


def test_gunicorn_serves_the_api_with_metrics_aggregated_across_workers(api, env):
    url, process = api
    account = requests.post(f"{url}/v1/accounts", json={"name": "Shop"}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                            timeout=10).json()
    auth = (account["id"], account["secret"])
    for _ in range(6):
        assert requests.post(f"{url}/v1/transactions", json=transaction_body(), auth=auth, timeout=10).status_code == 202
    assert requests.post(f"{url}/v1/transactions", json={"amount": "1.001"}, auth=auth, timeout=10).status_code == 422
    assert requests.get(f"{url}/readyz", timeout=10).status_code == 200

    scrapes = [requests.get(f"{url}/metrics", timeout=10).text for _ in range(4)]  # whichever worker answers
    for text in scrapes:
        assert metric(text, "gateway_api_transactions_accepted_total") == 6
        assert 'gateway_api_http_requests_total{method="POST",route="/v1/transactions",status="202"} 6.0' in text
        assert metric(text, "gateway_api_produce_duration_seconds_count") == 6
        assert "process_resident_memory_bytes" in text
    pids = {json.loads(line).get("process") for line in process.lines() if line.startswith("{")}
    assert process.stop() == 0
    assert pids  # JSON lines only, from the workers
    assert_no_card_data(process.lines())
    assert_no_card_data_in_database(env["DATABASE_URL"].removeprefix("sqlite:///"))


def test_the_results_consumer_process_updates_the_ledger(api, env, kafka_settings, tmp_path):
    url, _ = api
    account = requests.post(f"{url}/v1/accounts", json={"name": "Shop"}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                            timeout=10).json()
    auth = (account["id"], account["secret"])
    created = requests.post(f"{url}/v1/transactions", json=transaction_body(), auth=auth, timeout=10).json()
    metrics_port = free_port()
    consumer = Process([sys.executable, "-m", "gateway_api.results"],
                       env | {"METRICS_PORT": str(metrics_port), "RESULTS_GROUP_ID": "results-process-test"},
                       tmp_path / "results.log")
    try:
        result = TransactionResult(created["id"], "approved", "", account["id"], created["amount"], "visa", "1111",
                                   created["created_at"], created["created_at"])
        build_acked_producer(kafka_settings, "test").send([Record(kafka_settings.topics.results, result.to_json())], 10)
        wait_until(lambda: requests.get(f"{url}/v1/transactions/{created['id']}", auth=auth, timeout=5)
                   .json()["status"] == "approved", 30, message="approved through the results consumer")
        text = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
        assert 'gateway_results_applied_total{status="approved"} 1.0' in text
        assert "process_cpu_seconds_total" in text
    finally:
        assert consumer.stop() == 0
    assert_no_card_data(consumer.lines())


def test_the_results_consumer_purges_expired_idempotency_keys_when_it_starts(api, env, tmp_path):
    """The automatic purge: at start, then hourly; it deletes exactly what the API no longer replays."""
    url, _ = api  # the API migrated the ledger
    database = env["DATABASE_URL"].removeprefix("sqlite:///")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    connection = sqlite3.connect(database)
    with connection:
        connection.executemany(
            "INSERT INTO gateway_idempotency_keys VALUES (?, ?, ?, ?, ?, ?)",
            [("acct_1", "expired", "", "tx-1", (now - timedelta(hours=25)).isoformat(sep=" "), 1),
             ("acct_1", "live", "v2:x", "tx-2", (now - timedelta(hours=23)).isoformat(sep=" "), 1)])
    consumer = Process([sys.executable, "-m", "gateway_api.results"],
                       env | {"METRICS_PORT": "0", "RESULTS_GROUP_ID": "results-purge-test"}, tmp_path / "results.log")
    try:
        wait_until(lambda: [k for (k,) in connection.execute("SELECT idempotency_key FROM gateway_idempotency_keys")]
                   == ["live"], 30, message="the expired key purged")
    finally:
        connection.close()
        assert consumer.stop() == 0
    purged = [json.loads(line) for line in consumer.lines() if "purged" in line]
    assert purged and purged[0]["purged"] == 1


def assert_no_card_data(lines: list[str]) -> None:
    assert lines
    for line in lines:
        assert TEST_CARD not in line and f'"{TEST_CVV}"' not in line and "cvv" not in line.lower(), line


def assert_no_card_data_in_database(path: str) -> None:
    connection = sqlite3.connect(path)
    try:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = [row for table in tables for row in connection.execute(f"SELECT * FROM {table}")]
    finally:
        connection.close()
    assert rows
    for row in rows:
        assert TEST_CARD not in str(row) and TEST_CVV not in [str(value) for value in row], row


def test_every_worker_refuses_a_rotated_or_disabled_secret_within_a_second(api, env):
    """Each worker caches account lookups (GATEWAY_AUTH_CACHE_SECONDS); a change must win within 1 s,
    whichever process made it: here a rotation through one worker, then a change straight in the
    ledger database (another process, e.g. `python -m gateway_api accounts`), which no worker saw."""
    url, _ = api
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    account = requests.post(f"{url}/v1/accounts", json={"name": "Shop"}, headers=admin, timeout=10).json()
    old = (account["id"], account["secret"])

    def statuses(auth) -> set[int]:  # a new connection each time: both workers answer some
        return {requests.get(f"{url}/v1/me", auth=auth, timeout=10).status_code for _ in range(30)}

    assert statuses(old) == {200}  # now cached in the workers
    rotated = requests.post(f"{url}/v1/accounts/{account['id']}/secret", headers=admin, timeout=10).json()
    time.sleep(1.0)
    new = (account["id"], rotated["secret"])
    assert statuses(old) == {401} and statuses(new) == {200}

    connection = sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///"))
    with connection:
        connection.execute("UPDATE gateway_accounts SET disabled = 1 WHERE id = ?", (account["id"],))
    connection.close()
    time.sleep(1.0)
    assert statuses(new) == {401}
