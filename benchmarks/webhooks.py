"""Webhook latency at a steady decision rate: ``python -m benchmarks.webhooks`` (``make bench-webhooks``).

Starts the whole stack as `make run` does (embedded broker, processor, results consumer, webhook
dispatcher, API, panel; SQLite unless --database) on free ports, gives BENCH_WEBHOOKS_MERCHANTS
merchants one endpoint each on a local receiver, then produces BENCH_WEBHOOKS_N transactions onto
`transactions` at BENCH_WEBHOOKS_RATE per second (the API alone cannot accept 1,000/s on this
machine, so the benchmark writes to the topic the API writes to). For every event the receiver
gets, latency = arrival - the transaction's ``processed_at`` (the processor's decision time, in the
event itself). Prints percentiles, how many events arrived, and duplicates.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from confluent_kafka import Producer

from infra.runtime.card_cipher import CardCipher, CardDataKeys
from infra.runtime.kafka import producer_config
from infra.stack import Stack, StackSettings
from infra.stack.embedded_broker import free_port

from benchmarks.stopping import stop_cleanly_on_sigterm
from tests.e2e.helpers import basic_auth
from tests.support.mysql import ServerUnreachable, throwaway_database
from tests.support.receiver import Receiver
from tests.support.stack import load_test_merchant
from tests.support.transactions import encrypted, mixed_transaction

DEFAULT_MYSQL_SERVER = "mysql+pymysql://root@127.0.0.1:3306/test"
TICK_SECONDS = 0.01


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def produce_paced(stack: Stack, merchants: list[dict], count: int, rate: float) -> float:
    """``count`` transactions at ``rate`` per second, spread over the merchants; returns the seconds taken."""
    settings = stack.kafka_settings()
    producer = Producer(producer_config(settings, "bench-webhooks", **{"linger.ms": 2}))
    # Card fields sealed with the stack's CARD_DATA_KEYS, as the API does (the processor refuses clear ones).
    cipher = CardCipher(CardDataKeys.parse(stack.settings.card_data_keys.reveal()))
    run = uuid.uuid4().hex[:6]
    started = time.monotonic()
    for index in range(count):
        due = started + index / rate
        if (wait := due - time.monotonic()) > TICK_SECONDS:
            producer.poll(0)
            time.sleep(wait)
        message, _ = mixed_transaction(index, run)
        account = merchants[index % len(merchants)]["id"]
        message = message | {"account_id": account, "created_at": datetime.now(timezone.utc).isoformat()}
        producer.produce(
            settings.topics.transactions, json.dumps(encrypted(message, cipher)).encode(), account.encode()
        )
    producer.flush(30)
    return time.monotonic() - started


def latencies(receiver: Receiver) -> tuple[list[tuple[float, float]], int]:
    """For each distinct event (seconds from decision to arrival, of which from the event's recording
    in the ledger to arrival); and how many arrivals were repeats."""
    first: dict[str, tuple[float, float]] = {}
    for request in receiver.requests:
        event = request.event
        first.setdefault(
            event["id"],
            (
                request.at - _timestamp(event["data"]["object"]["processed_at"]),
                request.at - _timestamp(event["created_at"]),
            ),
        )
    return list(first.values()), len(receiver.requests) - len(first)


def _timestamp(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


def run(count: int, rate: float, merchants_count: int, var_dir: Path, gateway_db: str) -> None:
    settings = StackSettings(
        kafka_port=free_port(),
        api_port=free_port(),
        panel_port=free_port(),
        processor_metrics_port=free_port(),
        results_metrics_port=free_port(),
        webhooks_metrics_port=free_port(),
        api_metrics_port=free_port(),
        panel_metrics_port=free_port(),
        var_dir=var_dir,
        gateway_database_url=gateway_db,
        with_prometheus=False,
        log_level="WARNING",
    )
    with Stack(settings, console=None) as stack, Receiver() as receiver:
        merchants = [load_test_merchant(stack, f"Bench shop {i}") for i in range(merchants_count)]
        for merchant in merchants:
            endpoint = {"url": receiver.url, "enabled_events": ["*"]}
            status, body, _ = stack.request("POST", "/v1/webhook_endpoints", endpoint, headers=basic_auth(merchant))
            assert status == 201, body
        produce_paced(stack, merchants, 200, rate)  # warm-up: connections, threads, caches
        wait_for(receiver, 200, timeout=60)
        receiver.requests.clear()
        cpu_before = cpu_seconds(stack)
        seconds = produce_paced(stack, merchants, count, rate)
        arrived = wait_for(receiver, count, timeout=120)
        cpu = {name: used - cpu_before.get(name, 0.0) for name, used in cpu_seconds(stack).items()}
    report(receiver, count, rate, seconds, arrived, gateway_db)
    print_timeline(receiver)
    print(
        "cpu        "
        + "   ".join(f"{name} {used / count * 1e6:.0f} us" for name, used in cpu.items())
        + "   (per transaction, user + system, every process of the service)"
    )


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU time used so far by each service (its process and their children: gunicorn workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents, used = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid], used[pid] = int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks
    totals = {}
    for process in stack.processes:
        family, frontier = {process.pid}, {process.pid}
        while frontier:
            frontier = {pid for pid, parent in parents.items() if parent in frontier} - family
            family |= frontier
        totals[process.name] = sum(used.get(pid, 0.0) for pid in family)
    totals["benchmark+receiver"] = used.get(os.getpid(), 0.0)
    return totals


def wait_for(receiver: Receiver, count: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while len(set(receiver.event_ids())) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return len(set(receiver.event_ids()))


def print_timeline(receiver: Receiver, window_s: float = 2.0) -> None:
    """p99 of decision -> receiver per window of decision time: shows whether the tail is one stall or spread."""
    by_window: dict[int, list[float]] = {}
    for request in receiver.requests:
        decided = _timestamp(request.event["data"]["object"]["processed_at"])
        by_window.setdefault(int(decided // window_s), []).append(request.at - decided)
    first = min(by_window)
    cells = [
        f"{(key - first) * window_s:.0f}s:{percentile(values, 0.99) * 1000:.0f}"
        for key, values in sorted(by_window.items())
    ]
    print(f"timeline   p99 ms per {window_s:.0f} s of decisions: " + " ".join(cells))


def report(receiver: Receiver, count: int, rate: float, seconds: float, arrived: int, gateway_db: str) -> None:
    pairs, repeats = latencies(receiver)
    values, dispatch = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    database = "SQLite" if gateway_db == "" else "MySQL/MariaDB"
    print(
        f"Webhook benchmark: {count} transactions at {rate:,.0f}/s (produced in {seconds:.1f} s = "
        f"{count / seconds:,.0f}/s), ledger on {database}, {os.cpu_count()} CPUs shared by the whole stack"
    )
    print(f"events     {arrived} of {count} received, {repeats} repeated deliveries")
    print(
        f"latency    decision -> receiver: p50 {percentile(values, 0.5) * 1000:.0f} ms   "
        f"p95 {percentile(values, 0.95) * 1000:.0f} ms   p99 {percentile(values, 0.99) * 1000:.0f} ms   "
        f"max {max(values) * 1000:.0f} ms"
    )
    print(
        "           of which event recorded -> receiver (dispatcher): "
        f"p50 {percentile(dispatch, 0.5) * 1000:.0f} ms   "
        f"p99 {percentile(dispatch, 0.99) * 1000:.0f} ms"
    )
    verdict = "met" if arrived == count and percentile(values, 0.99) <= 1.0 else "NOT met"
    print(f"goal       p99 <= 1 s after the decision, nothing lost: {verdict}")


def main(argv=None) -> int:
    stop_cleanly_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=int(os.environ.get("BENCH_WEBHOOKS_N", 20000)))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("BENCH_WEBHOOKS_RATE", 1000)))
    parser.add_argument("--merchants", type=int, default=int(os.environ.get("BENCH_WEBHOOKS_MERCHANTS", 6)))
    parser.add_argument(
        "--database",
        default=os.environ.get("BENCH_WEBHOOKS_DATABASE", "sqlite"),
        help="sqlite, mysql (a throwaway database on TEST_MYSQL_URL's server) or a URL",
    )
    args = parser.parse_args(argv)
    drop = None
    gateway_db = "" if args.database == "sqlite" else args.database
    if args.database == "mysql":
        try:
            gateway_db, drop = throwaway_database(os.environ.get("TEST_MYSQL_URL", DEFAULT_MYSQL_SERVER), "bench")
        except ServerUnreachable as exc:
            print(exc, file=sys.stderr)
            return 1
    try:
        with tempfile.TemporaryDirectory() as folder:
            run(args.n, args.rate, args.merchants, Path(folder), gateway_db)
    finally:
        if drop:
            drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
