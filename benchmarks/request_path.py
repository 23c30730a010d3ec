"""CPU per request of the API's request path in one process: ``python -m benchmarks.request_path``.

The app as gunicorn builds it (JSON logs, a SQLite ledger and rate-limit store, the embedded broker),
called as WSGI in this thread with one environ per request, sequentially: no wrk, no sockets, no other
process on the request's CPU budget. Prints the process's CPU (every thread: librdkafka's and the
delivery reports' included) and this thread's, in us per request, for ``POST /v1/transactions`` without
a key and with a fresh Idempotency-Key on every request, then the same for the bare-Flask echo of ``benchmarks/ceiling.py``: compare the ratio of
one run. BENCH_PATH_REQUESTS (2000) per round, the cheapest of BENCH_PATH_ROUNDS (3) alternated rounds; BENCH_PATH_PROFILE=1 prints a cProfile of the POSTs
(BENCH_PATH_PROFILE_SORT, tottime), and BENCH_PATH_PROFILE_DUMP=FILE also writes it to FILE for pstats (callers, callees).
"""

from __future__ import annotations

import base64
import cProfile
import io
import json
import os
import pstats
import resource
import sys
import tempfile
import time
from itertools import count
from pathlib import Path

from infra.kernel.contracts import Topics
from infra.runtime.kafka import KafkaSettings, ensure_topics
from infra.runtime.logs import configure_logging
from infra.runtime.settings import Secret
from infra.stack.embedded_broker import EmbeddedBroker

from benchmarks.stopping import stop_cleanly_on_sigterm
from tests.support.stack import LOAD_TEST_RATE_LIMIT_PER_SECOND
from tests.support.transactions import TEST_CARD_KEYS

ADMIN_TOKEN = "bench-admin-token-0123456789-abcdefghij"
KEYS = count()  # fresh Idempotency-Keys, unique within the run
BODY = json.dumps(
    {
        "amount": "10.50",
        "description": "order 42",
        "credit_card": {
            "number": "4111111111111111",
            "name": "Ada Lovelace",
            "expiration_month": 12,
            "expiration_year": 2099,
            "cvv": "123",
        },
    }
).encode()


def environ(method: str, path: str, body: bytes = b"", authorization: str = "") -> dict:
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "_body": body,
    }
    if authorization:
        env["HTTP_AUTHORIZATION"] = authorization
    return env


def call(app, template: dict) -> str:
    env = dict(template)
    env["wsgi.input"] = io.BytesIO(env.pop("_body"))
    if env.pop("_fresh_keys", False):
        env["HTTP_IDEMPOTENCY_KEY"] = f"bench-{next(KEYS)}"
    status = []
    chunks = app(env, lambda s, headers, exc_info=None: status.append(s))
    try:
        b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return status[0]


def measure(app, template: dict, requests: int, expected: str, profile: cProfile.Profile | None = None):
    for _ in range(min(200, requests)):  # warm: caches, connections, the producer's metadata
        assert call(app, template).startswith(expected)
    cpu, own, wall = time.process_time(), resource.getrusage(resource.RUSAGE_THREAD), time.perf_counter()
    if profile:
        profile.enable()
    for _ in range(requests):
        status = call(app, template)
        assert status.startswith(expected), status
    if profile:
        profile.disable()
    after, per_request = resource.getrusage(resource.RUSAGE_THREAD), 1e6 / requests
    return (
        round((time.process_time() - cpu) * per_request),
        round((after.ru_utime - own.ru_utime) * per_request),
        round((after.ru_stime - own.ru_stime) * per_request),
        round((time.perf_counter() - wall) * per_request),
    )


def gateway_app(bootstrap: str, folder: Path):
    from gateway_api import create_app
    from gateway_api.settings import Settings

    kafka = KafkaSettings(bootstrap_servers=bootstrap, topics=Topics.with_prefix("bench_"), partitions=3)
    ensure_topics(kafka)
    settings = Settings(
        admin_token=Secret(ADMIN_TOKEN),
        secret_pepper=Secret("bench-pepper-0123456789"),
        card_data_keys=TEST_CARD_KEYS,
        database_url=f"sqlite:///{folder / 'ledger.db'}",
        rate_limit_storage_url=f"sqlite:///{folder / 'limits.db'}",
        kafka=kafka,
        webhook_secrets_key=Secret(base64.b64encode(b"k" * 32).decode()),
    )
    return create_app(settings)


def merchant_authorization(app) -> str:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    client = app.test_client()
    account = client.post("/v1/accounts", json={"name": "Bench"}, headers=admin).json
    client.put(
        f"/v1/accounts/{account['id']}/rate_limit",
        headers=admin,
        json={"rate_limit_per_second": LOAD_TEST_RATE_LIMIT_PER_SECOND},
    )
    return "Basic " + base64.b64encode(f"{account['id']}:{account['secret']}".encode()).decode()


def main() -> None:
    stop_cleanly_on_sigterm()
    requests = int(os.environ.get("BENCH_PATH_REQUESTS", "2000"))
    profile = cProfile.Profile() if os.environ.get("BENCH_PATH_PROFILE") else None
    folder = Path(tempfile.mkdtemp(prefix="bench-path-"))
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(folder))
    log_stream = open(os.devnull, "w")  # noqa: SIM115 - the process's log lines, formatted and dropped
    sys.stdout, stdout = log_stream, sys.stdout
    configure_logging("gateway_api")
    sys.stdout = stdout
    with EmbeddedBroker(settings=KafkaSettings(topics=Topics.with_prefix("unused_"))) as broker:
        app = gateway_app(broker.bootstrap_servers, folder)
        post = environ("POST", "/v1/transactions", BODY, merchant_authorization(app))
        keyed = post | {"_fresh_keys": True}
        from benchmarks.ceiling import create_app as ceiling_app

        echo = environ("POST", "/echo", BODY)
        ceiling, rounds = ceiling_app(), int(os.environ.get("BENCH_PATH_ROUNDS", "3"))
        runs = [
            (
                measure(app, post, requests, "202", profile),
                measure(app, keyed, requests, "202"),
                measure(ceiling, echo, requests, "200"),
            )
            for _ in range(rounds)
        ]  # alternated, the cheapest of each: the machine's load moves
        names = ("POST /v1/transactions", "POST, fresh key", "ceiling echo")
        rows = [(name, min(run[i] for run in runs)) for i, name in enumerate(names)]
        app.extensions["gateway_api"].publisher.close()
    print(f"{'us per request':<24}{'process cpu':>12}{'thread user':>12}{'thread sys':>12}{'wall':>8}")
    for name, (cpu, user, system, wall) in rows:
        print(f"{name:<24}{cpu:>12,}{user:>12,}{system:>12,}{wall:>8,}")
    print(f"ratio of process cpu: {rows[0][1][0] / rows[2][1][0]:.2f}, fresh key {rows[1][1][0] / rows[2][1][0]:.2f}")
    if profile:
        pstats.Stats(profile).sort_stats(os.environ.get("BENCH_PATH_PROFILE_SORT", "tottime")).print_stats(45)
        if os.environ.get("BENCH_PATH_PROFILE_DUMP"):
            profile.dump_stats(os.environ["BENCH_PATH_PROFILE_DUMP"])


if __name__ == "__main__":
    main()
