"""The API under gunicorn and the results consumer as real processes, started the way the stack does.

Proves the gunicorn config (several workers, multiprocess /metrics, JSON-only logs), the commands'
environment variables, and that neither log lines nor database rows of the run hold a card number or
a CVV, whatever path the card took (tests/support/card_data.py).
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

from infra.kernel.contracts import TransactionResult
from infra.runtime.kafka import Record, build_acked_producer
from infra.runtime.metrics import STANDARD_METHODS
from infra.stack.embedded_broker import free_port

from tests.integration.gateway_api.support import ADMIN_TOKEN, TEST_CARD, TEST_CVV, transaction_body
from tests.support import wait_until
from tests.support.card_data import CardDataScanner, CardTraffic
from tests.support.concurrency import race
from tests.support.ports import PortTaken, listening_socket, lost_a_port_race, retry_on_port_collision
from tests.support.secrets import STRONG_SECRETS

BIN = Path(sys.executable).parent


@pytest.fixture
def env(kafka_settings, tmp_path):
    prefix = kafka_settings.topics.transactions[: -len("transactions")]
    return os.environ | {
        **STRONG_SECRETS,
        "GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": prefix,
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "INFO",
        "RATE_LIMIT_STORAGE_URL": f"sqlite:///{tmp_path / 'rate-limits.db'}",  # `make run`'s store
    }


class Process:
    def __init__(self, args, env, log_path: Path, pass_fds=()):
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.popen = subprocess.Popen(
            args, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True, pass_fds=pass_fds
        )

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
    process = retry_on_port_collision(lambda attempt: _gunicorn(env, tmp_path / f"api-{attempt}.log"))
    try:
        yield process.url, process
    finally:
        process.stop()


def _gunicorn(env: dict, log_path: Path) -> Process:
    """The API under gunicorn, its /metrics on a free port of its own (started again if it lost that port)."""
    metrics_port = free_port()
    with listening_socket() as sock:  # bound here and handed over: no other process can take the port
        process = Process(
            [
                str(BIN / "gunicorn"),
                "-c",
                "python:gateway_api.gunicorn_conf",
                "gateway_api:create_app()",
                "--bind",
                f"fd://{sock.fileno()}",
            ],
            env | {"METRICS_PORT": str(metrics_port)},
            log_path,
            pass_fds=(sock.fileno(),),
        )
        process.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    process.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    wait_until(
        lambda: (
            (_answers(process.url + "/healthz") and _answers(process.metrics_url)) or process.popen.poll() is not None
        ),
        30,
        message="gunicorn up",
    )
    if process.popen.poll() is not None:
        process.stop()
        output = log_path.read_text()
        raise (PortTaken if lost_a_port_race(output) else RuntimeError)(output[-2000:])
    return process


def booted_workers(process: "Process") -> set[int]:
    """The pids of the workers gunicorn says it booted (2 with WEB_CONCURRENCY=2), once it booted them."""
    lines = [json.loads(line) for line in process.lines() if line.startswith("{")]
    pids = {int(line["msg"].rsplit(" ", 1)[1]) for line in lines if line["msg"].startswith("Booting worker with pid")}
    return pids if len(pids) == 2 else set()


def served_by(process: "Process") -> set[int]:
    """The pids that logged an answered request so far."""
    lines = [json.loads(line) for line in process.lines() if line.startswith("{")]
    return {line["pid"] for line in lines if line["msg"] == "request"}


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:  # not listening yet, or a worker still booting
        return False


def metric(text: str, name: str) -> float:
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + " ") or line.startswith(name + "{")
    ]
    return sum(values)


def test_gunicorn_serves_the_api_from_several_workers_with_metrics_aggregated_and_json_logs(api, env):
    url, process = api
    account = requests.post(
        f"{url}/v1/accounts", json={"name": "Shop"}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
    ).json()
    auth = (account["id"], account["secret"])
    posts, _ = race(
        lambda _: requests.post(f"{url}/v1/transactions", json=transaction_body(), auth=auth, timeout=10), 8
    )
    assert {response.status_code for response in posts} == {202}
    # Each request on a new connection, until both workers have answered some (the kernel picks).
    workers = wait_until(lambda: booted_workers(process), 10, message="two workers booted")
    wait_until(
        lambda: requests.get(f"{url}/v1/me", auth=auth, timeout=10) and served_by(process) == workers,
        30,
        interval=0,
        message="requests answered by every worker",
    )
    scanner = CardDataScanner()
    scanner.sent(TEST_CARD, TEST_CVV)
    traffic = CardTraffic(url, auth, ADMIN_TOKEN, scanner)
    traffic.send_all()  # every error path, with card data in the body
    accepted = len(posts) + len(traffic.accepted_ids)
    assert requests.get(f"{url}/readyz", timeout=10).status_code == 200

    # Made-up methods (gunicorn accepts any upper-case word) all count as "other": no new series each.
    for n in range(30):
        requests.request(f"MADEUP{chr(65 + n % 26)}{n}", f"{url}/v1/transactions", timeout=10)
    assert requests.get(f"{url}/metrics", timeout=10).status_code == 404  # not on the public port
    scrapes = [requests.get(process.metrics_url, timeout=10).text for _ in range(2)]  # the master aggregates
    for text in scrapes:
        methods = {
            line.split('method="', 1)[1].split('"', 1)[0]
            for line in text.splitlines()
            if line.startswith("gateway_api_http_requests_total{")
        }
        assert methods <= STANDARD_METHODS | {"other"} and "other" in methods
        assert metric(text, "gateway_api_transactions_accepted_total") == accepted
        assert (
            f'gateway_api_http_requests_total{{method="POST",route="/v1/transactions",status="202"}} {accepted}.0'
            in text
        )
        assert metric(text, "gateway_api_produce_duration_seconds_count") == accepted
        assert "process_resident_memory_bytes" in text
    assert process.stop() == 0

    lines = [json.loads(line) for line in process.lines()]  # every line is JSON, gunicorn's own included
    assert len(workers) == 2 and served_by(process) == workers
    assert {line["service"] for line in lines} == {"gateway_api"}
    assert not [line for line in lines if line["logger"] == "gunicorn.access"]  # the app logs requests itself
    assert scanner.findings("api log", "\n".join(process.lines())) == []
    assert scanner.findings("ledger rows", database_text(env["DATABASE_URL"].removeprefix("sqlite:///"))) == []


def session_lines(process, logged: int, count: int) -> list[dict] | None:
    lines = [json.loads(line) for line in process.lines()[logged:] if line.startswith("{")]
    sessions = [line for line in lines if line.get("route") == "/v1/sessions"]
    return sessions if len(sessions) >= count else None


def test_both_gunicorn_workers_count_one_rate_limit_in_make_runs_sqlite_store(api):
    """Sessions are limited to 20 a minute per account: 30 sign-ins spread over both workers (each on
    a new connection) get exactly 20 sessions, as one process would; a store of each worker's own
    would let up to 40 through."""
    url, process = api
    workers = wait_until(lambda: booted_workers(process), 10, message="two workers booted")
    for _ in range(5):  # on a loaded machine one worker may take a whole race: then a new round
        account = requests.post(
            f"{url}/v1/accounts", json={"name": "Shop"}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
        ).json()
        auth = (account["id"], account["secret"])
        logged = len(process.lines())
        answers, _ = race(lambda _: requests.post(f"{url}/v1/sessions", json={}, auth=auth, timeout=10), 30)
        codes = sorted(answer.status_code for answer in answers)
        assert codes == [201] * 20 + [429] * 10, codes
        # Access lines are written in batches, within 0.1 s (infra.runtime.logs.BatchedStreamHandler).
        lines = wait_until(lambda: session_lines(process, logged, 30), 5, message="30 access lines")
        if {line["pid"] for line in lines} == workers:
            return
    pytest.fail("no round of sign-ins was answered by both workers")


def test_the_results_consumer_process_updates_the_ledger(api, env, kafka_settings, tmp_path):
    url, _ = api
    account = requests.post(
        f"{url}/v1/accounts", json={"name": "Shop"}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
    ).json()
    auth = (account["id"], account["secret"])
    created = requests.post(f"{url}/v1/transactions", json=transaction_body(), auth=auth, timeout=10).json()
    consumer, metrics_port = retry_on_port_collision(
        lambda attempt: results_consumer(env, tmp_path / f"results-{attempt}.log")
    )
    try:
        result = TransactionResult(
            created["id"],
            "approved",
            "",
            account["id"],
            created["amount"],
            "visa",
            "1111",
            created["created_at"],
            created["created_at"],
        )
        build_acked_producer(kafka_settings, "test").send([Record(kafka_settings.topics.results, result.to_json())], 10)
        wait_until(
            lambda: (
                requests.get(f"{url}/v1/transactions/{created['id']}", auth=auth, timeout=5).json()["status"]
                == "approved"
            ),
            30,
            message="approved through the results consumer",
        )
        text = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
        assert 'gateway_results_applied_total{status="approved"} 1.0' in text
        assert "process_cpu_seconds_total" in text
    finally:
        assert consumer.stop() == 0
    lines = [json.loads(line) for line in consumer.lines()]  # JSON only
    assert lines and {line["service"] for line in lines} == {"gateway_results"}


def results_consumer(env: dict, log_path: Path) -> tuple[Process, int]:
    """``python -m gateway_api.results`` serving /metrics on a free port (started again if it lost that port)."""
    port = free_port()
    consumer = Process(
        [sys.executable, "-m", "gateway_api.results"],
        env | {"METRICS_PORT": str(port), "RESULTS_GROUP_ID": "results-process-test"},
        log_path,
    )
    wait_until(
        lambda: _answers(f"http://127.0.0.1:{port}/metrics") or consumer.popen.poll() is not None,
        30,
        message="the results consumer's /metrics",
    )
    if consumer.popen.poll() is not None:
        consumer.stop()
        output = log_path.read_text()
        raise (PortTaken if lost_a_port_race(output) else RuntimeError)(output[-2000:])
    return consumer, port


def test_the_results_consumer_purges_expired_idempotency_keys_when_it_starts(api, env, tmp_path):
    """The automatic purge: at start, then hourly; it deletes exactly what the API no longer replays."""
    url, _ = api  # the API migrated the ledger
    database = env["DATABASE_URL"].removeprefix("sqlite:///")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    connection = sqlite3.connect(database)
    with connection:
        connection.executemany(
            "INSERT INTO gateway_idempotency_keys VALUES (?, ?, ?, ?, ?, ?)",
            [
                ("acct_1", "expired", "", "tx-1", (now - timedelta(hours=25)).isoformat(sep=" "), 1),
                ("acct_1", "live", "v2:x", "tx-2", (now - timedelta(hours=23)).isoformat(sep=" "), 1),
            ],
        )
    consumer = Process(
        [sys.executable, "-m", "gateway_api.results"],
        env | {"METRICS_PORT": "0", "RESULTS_GROUP_ID": "results-purge-test"},
        tmp_path / "results.log",
    )
    try:
        wait_until(
            lambda: (
                [k for (k,) in connection.execute("SELECT idempotency_key FROM gateway_idempotency_keys")] == ["live"]
            ),
            30,
            message="the expired key purged",
        )
    finally:
        connection.close()
        assert consumer.stop() == 0
    purged = [json.loads(line) for line in consumer.lines() if "purged" in line]
    assert purged and purged[0]["purged"] == 1


def database_text(path: str) -> str:
    """Every row of every table of the SQLite file at ``path``, as text."""
    connection = sqlite3.connect(path)
    try:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = [row for table in tables for row in connection.execute(f"SELECT * FROM {table}")]
    finally:
        connection.close()
    assert rows
    return "\n".join(repr(row) for row in rows)


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


def worker_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")
def test_the_api_cpu_counter_is_the_sum_of_its_workers_and_never_goes_down(api):
    url, process = api
    workers = wait_until(lambda: booted_workers(process), 10, message="two workers booted")
    for _ in range(20):  # each on a new connection: both workers burn some CPU
        requests.get(f"{url}/v1/me", timeout=10)
    scrapes = [
        metric(requests.get(process.metrics_url, timeout=10).text, "process_cpu_seconds_total") for _ in range(30)
    ]
    assert scrapes == sorted(scrapes), f"the counter went down between scrapes: {scrapes}"
    time.sleep(1.5)  # every worker has written its figure since
    summed = metric(requests.get(process.metrics_url, timeout=10).text, "process_cpu_seconds_total")
    workers_cpu = sum(worker_cpu_seconds(pid) for pid in workers)
    assert 0.9 * workers_cpu <= summed <= workers_cpu + 0.5, (summed, workers_cpu)
