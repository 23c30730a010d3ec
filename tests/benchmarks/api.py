"""Throughput and latency of the merchant API: ``python -m tests.benchmarks.api`` (``make bench-api``).

Starts the whole stack as `make run` does (embedded broker, SQLite, gunicorn API, processor, results
consumer, panel) on free ports, creates a merchant, then sends BENCH_API_N ``POST /v1/transactions``
from BENCH_API_CLIENTS concurrent keep-alive clients. Prints accepted requests/s, the latency
percentiles of the 202s, how long after the last 202 every transaction was decided, and what one
merchant authentication (account lookup + HMAC) costs next to a whole request.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from infra.embedded_broker import free_port
from infra.stack import Stack, StackSettings
from tests.support import utc_today


def transaction_body(index: int) -> bytes:
    card = {"number": "4111111111111111", "name": "Bench Mark", "expiration_month": 12,
            "expiration_year": utc_today().year + 1, "cvv": "123"}
    return json.dumps({"amount": f"{10 + index % 990}.{index % 100:02d}", "credit_card": card}).encode()


class Client:
    """One keep-alive connection sending POSTs and recording the latency of each 202."""

    def __init__(self, host: str, port: int, headers: dict):
        self._address = (host, port)
        self._headers = headers
        self._connection = http.client.HTTPConnection(host, port, timeout=30)
        self.latencies: list[float] = []
        self.failures = 0

    def post(self, body: bytes) -> None:
        started = time.perf_counter()
        try:
            self._connection.request("POST", "/v1/transactions", body, self._headers)
            response = self._connection.getresponse()
            response.read()
        except (http.client.HTTPException, OSError):
            self._connection.close()
            self._connection = http.client.HTTPConnection(*self._address, timeout=30)
            self.failures += 1
            return
        if response.status == 202:
            self.latencies.append(time.perf_counter() - started)
        else:
            self.failures += 1
        if response.getheader("Connection", "").lower() == "close":
            self._connection.close()
            self._connection = http.client.HTTPConnection(*self._address, timeout=30)


def fire(stack: Stack, merchant: dict, count: int, clients: int) -> tuple[list[float], int, float]:
    token = base64.b64encode(f"{merchant['id']}:{merchant['secret']}".encode()).decode()
    headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
    workers = [Client(stack.settings.host, stack.settings.api_port, headers) for _ in range(clients)]
    bodies = [transaction_body(i) for i in range(count)]
    threads = [threading.Thread(target=lambda c=c, k=k: [c.post(b) for b in bodies[k::clients]])
               for k, c in enumerate(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return [x for c in workers for x in c.latencies], sum(c.failures for c in workers), elapsed


def seconds_until_decided(stack: Stack, merchant: dict, timeout: float = 120) -> float:
    token = base64.b64encode(f"{merchant['id']}:{merchant['secret']}".encode()).decode()
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        _, page, _ = stack.request("GET", "/v1/transactions?status=pending&limit=1",
                                   headers={"Authorization": f"Basic {token}"})
        if not page["data"]:
            return time.perf_counter() - started
        time.sleep(0.02)
    raise TimeoutError(f"transactions still pending after {timeout:.0f} s, e.g. {page['data'][0]}")


def authentication_cost(stack: Stack, merchant: dict, rounds: int = 2000) -> float:
    """Seconds per merchant authentication, as the API does it (ledger lookup + HMAC-SHA256)."""
    from gateway_api.app import create_app
    from gateway_api.settings import Settings
    from infra.card_cipher import CardDataKeys

    s = stack.settings
    app = create_app(Settings(admin_token=s.admin_token, secret_pepper=s.secret_pepper,
                              card_data_keys=CardDataKeys.parse(s.card_data_keys.reveal()),
                              database_url=s.gateway_db, auto_migrate=False))
    accounts = app.extensions["gateway_api"].accounts
    started = time.perf_counter()
    for _ in range(rounds):
        assert accounts.authenticate(merchant["id"], merchant["secret"]) is not None
    return (time.perf_counter() - started) / rounds


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def run(count: int, clients: int, var_dir: Path) -> None:
    settings = StackSettings(kafka_port=free_port(), api_port=free_port(), panel_port=free_port(),
                             processor_metrics_port=free_port(), results_metrics_port=free_port(),
                             var_dir=var_dir, with_prometheus=False, log_level="WARNING")
    with Stack(settings, console=None) as stack:
        merchant = stack.create_merchant("Bench shop")
        fire(stack, merchant, 100, clients)  # warm-up: connections, workers, producers
        latencies, failures, elapsed = fire(stack, merchant, count, clients)
        decided_after = seconds_until_decided(stack, merchant)
        auth = authentication_cost(stack, merchant)
    median = statistics.median(latencies)
    workers = os.environ.get("WEB_CONCURRENCY", "2")
    print(f"API benchmark: {count} POST /v1/transactions, {clients} concurrent clients, {workers} gunicorn "
          f"workers, {os.cpu_count()} CPUs (clients, API, broker, processor on the same machine)")
    print(f"accepted   {len(latencies) / elapsed:>8,.0f} req/s   ({len(latencies)} x 202, {failures} other)")
    print(f"latency    p50 {median * 1000:.1f} ms   p95 {percentile(latencies, 0.95) * 1000:.1f} ms   "
          f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms   max {max(latencies) * 1000:.1f} ms")
    print(f"decided    every transaction decided {decided_after:.2f} s after the last 202")
    print(f"auth       {auth * 1e6:.0f} us per merchant authentication = {auth / median:.1%} of a median request")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=int(os.environ.get("BENCH_API_N", 3000)))
    parser.add_argument("--clients", type=int, default=int(os.environ.get("BENCH_API_CLIENTS", 16)))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        run(args.n, args.clients, Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
