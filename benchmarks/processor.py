"""Throughput of the processor, end to end on a real broker: ``python -m benchmarks.processor``.

Produces BENCH_N (200,000) mixed transactions on `transactions` to ``python -m processor`` running as a
real process, and times until N results are on `transactions_result`. Runs on SQLite and, when reachable,
on MariaDB/MySQL (TEST_MYSQL_URL's server); BENCH_DATABASE_URL (or --database URL) runs one URL only.

The processor starts and joins its consumer group on one warm-up transaction (not timed); then the
N transactions are produced while it runs. Two figures per run: "overall" counts from the first
produce to the last result (producing included, start-up and group join excluded); "steady" from
the first published result batch to the last (the rate the loop sustains). On
Linux a third, "CPU", is the processor's CPU time per transaction over the steady part (from /proc):
unlike the rates it hardly moves when neighbours compete for the cores.

The transactions carry their card encrypted, as the API sends them; ``--plaintext`` (BENCH_PLAINTEXT=1)
sends the contract before encryption instead, with ACCEPT_PLAINTEXT_CARDS=true: the difference
between the two is what decrypting costs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import sqlalchemy
from confluent_kafka import Consumer

from infra.kernel.contracts import Topics
from infra.runtime.kafka import KafkaSettings, Record, build_acked_producer, consumer_config, ensure_topics
from infra.stack.embedded_broker import EmbeddedBroker

from benchmarks.cpu import machine_speed
from benchmarks.stopping import stop_cleanly_on_sigterm
from tests.support.mysql import ServerUnreachable, throwaway_database
from tests.support.transactions import TEST_CARD_KEYS, encrypted, mixed_transaction

DEFAULT_MYSQL_SERVER = "mysql+pymysql://root@127.0.0.1:3306/test"


@dataclass(frozen=True)
class Figures:
    database: str
    count: int
    steady_per_s: float
    overall_per_s: float
    seconds: float
    cpu_us_per_tx: float | None = None

    def line(self) -> str:
        cpu = f"  CPU {self.cpu_us_per_tx:5.1f} us/tx" if self.cpu_us_per_tx is not None else ""
        return (
            f"{self.database:<12} {self.count:>7} tx  steady {self.steady_per_s:>9,.0f} tx/s  "
            f"overall {self.overall_per_s:>9,.0f} tx/s  ({self.seconds:.2f} s from the first produce){cpu}"
        )


def payloads(count: int, plaintext: bool = False) -> list[tuple[bytes, bytes]]:
    """(value, key) of ``count`` mixed transactions, card data encrypted as the API sends it (the
    processor pays for decryption in the figures); built before any timing starts."""
    pairs = (mixed_transaction(i)[0] for i in range(count))
    return [(json.dumps(m if plaintext else encrypted(m)).encode(), m["account_id"].encode()) for m in pairs]


def produce(settings: KafkaSettings, messages: list[tuple[bytes, bytes]]) -> None:
    producer = build_acked_producer(settings, "bench-producer", **{"linger.ms": 50})
    chunk = 10000
    for start in range(0, len(messages), chunk):
        producer.send(
            [Record(settings.topics.transactions, value, key) for value, key in messages[start : start + chunk]],
            timeout=120,
        )


def processor_env(settings: KafkaSettings, database_url: str, batch_size: int, plaintext: bool = False) -> dict:
    prefix = settings.topics.transactions[: -len("transactions")]
    return os.environ | {
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": prefix,
        "KAFKA_TOPIC_PARTITIONS": str(settings.partitions),
        "DATABASE_URL": database_url,
        "METRICS_PORT": "0",
        "AUTO_MIGRATE": "true",
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        "PROCESSOR_GROUP_ID": f"bench-{uuid.uuid4().hex[:8]}",
        "PROCESSOR_BATCH_SIZE": str(batch_size),
        "CARD_DATA_KEYS": TEST_CARD_KEYS.to_env_value(),
        "ACCEPT_PLAINTEXT_CARDS": str(plaintext).lower(),
    }


class ResultReader:
    """Reads `transactions_result` from the start, counting results as they arrive."""

    def __init__(self, settings: KafkaSettings):
        self._consumer = Consumer(consumer_config(settings, "bench-reader", f"bench-reader-{uuid.uuid4().hex}"))
        self._consumer.subscribe([settings.topics.results])

    def wait_for(self, count: int, deadline: float, on_first=lambda: None) -> tuple[float, float, int]:
        """(first arrival, last arrival, size of the first arrival) of the next ``count`` results;
        ``on_first`` is called when the first of them arrive."""
        seen, first, first_size = 0, None, 0
        while seen < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {seen} of {count} results in time")
            got = sum(1 for m in self._consumer.consume(min(10000, count - seen), 0.05) if m.error() is None)
            if got and first is None:
                first, first_size = time.monotonic(), got
                on_first()
            seen += got
        return first, time.monotonic(), first_size

    def close(self) -> None:
        self._consumer.close()


def run_once(
    broker: KafkaSettings,
    label: str,
    database_url: str,
    count: int,
    batch_size: int,
    profile: str = "",
    replicas: int = 1,
    plaintext: bool = False,
) -> Figures:
    """The processor starts and joins its group on a warm-up transaction; then the N transactions are
    produced while it runs: *overall* from the first produce to the last result, *steady* from the
    first result batch to the last."""
    settings = replace(broker, topics=Topics.with_prefix(f"bench{uuid.uuid4().hex[:8]}_"))
    ensure_topics(settings)
    messages = payloads(count + 1, plaintext)
    env = processor_env(settings, database_url, batch_size, plaintext)  # one consumer group for every replica
    subprocess.run([sys.executable, "-m", "processor", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    reader = ResultReader(settings)
    processes = [subprocess.Popen(processor_command(label, profile, replica), env=env) for replica in range(replicas)]
    cpu_at_first = []
    try:
        produce(settings, messages[:1])
        reader.wait_for(1, time.monotonic() + 120)  # start-up and group join: not timed
        started = time.monotonic()
        producing = threading.Thread(target=produce, args=(settings, messages[1:]), name="bench-producer")
        producing.start()
        first, last, first_size = reader.wait_for(
            count, started + 600, on_first=lambda: cpu_at_first.append(cpu_seconds(processes))
        )
        cpu_at_last = cpu_seconds(processes)
        producing.join()
    finally:
        reader.close()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(15)
    steady = (count - first_size) / (last - first) if last > first else float("nan")
    cpu = None
    if cpu_at_last is not None and cpu_at_first and cpu_at_first[0] is not None and count > first_size:
        cpu = (cpu_at_last - cpu_at_first[0]) / (count - first_size) * 1e6
    name = (label if replicas == 1 else f"{label} x{replicas}") + (" clear" if plaintext else "")
    return Figures(name, count, steady, count / (last - started), last - started, cpu)


def cpu_seconds(processes) -> float | None:
    """User + system CPU time of the processes so far, from /proc (None where there is no /proc)."""
    total = 0.0
    for process in processes:
        try:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def processor_command(label: str, profile: str, replica: int) -> list[str]:
    if not profile:
        return [sys.executable, "-m", "processor"]
    output = Path(profile).with_name(f"{label}-{replica}-{Path(profile).name}")
    return [sys.executable, "-m", "cProfile", "-o", str(output), "-m", "processor"]


def mysql_database(server_url: str):
    """A throwaway database on the server: (url, drop callback), or None if unreachable."""
    try:
        return throwaway_database(server_url, "bench")
    except ServerUnreachable as exc:
        print(f"{exc}: skipped", file=sys.stderr)
        return None


def targets(choice: str, workdir: Path):
    """(label, url, cleanup) for each database the run covers."""
    if choice not in ("all", "sqlite", "mysql"):
        yield sqlalchemy.engine.make_url(choice).get_backend_name(), choice, lambda: None
        return
    if choice in ("all", "sqlite"):
        yield "sqlite", f"sqlite:///{workdir / 'bench.db'}", lambda: None
    if choice in ("all", "mysql"):
        created = mysql_database(os.environ.get("TEST_MYSQL_URL", DEFAULT_MYSQL_SERVER))
        if created:
            yield "mariadb", created[0], created[1]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=int(os.environ.get("BENCH_N", 200000)))
    parser.add_argument(
        "--database",
        default=os.environ.get("BENCH_DATABASE_URL", "all"),
        help="all (default), sqlite, mysql, or a database URL",
    )
    parser.add_argument("--batch-size", type=int, default=int(os.environ.get("PROCESSOR_BATCH_SIZE", 2000)))
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument(
        "--replicas",
        type=int,
        default=int(os.environ.get("BENCH_REPLICAS", 1)),
        help="processor processes in one consumer group (scale-out, at most --partitions)",
    )
    parser.add_argument(
        "--plaintext",
        action="store_true",
        default=os.environ.get("BENCH_PLAINTEXT", "") == "1",
        help="card data in clear (the contract before encryption), ACCEPT_PLAINTEXT_CARDS=true",
    )
    parser.add_argument(
        "--profile",
        default="",
        metavar="FILE",
        help="profile the processor with cProfile into <database>-FILE (read it with pstats)",
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    stop_cleanly_on_sigterm()
    args = parse_args(argv)
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    settings = KafkaSettings(partitions=args.partitions, topics=Topics.with_prefix("bench_unused_"))
    with tempfile.TemporaryDirectory() as workdir:
        broker = None if external else EmbeddedBroker(settings=settings).start()
        kafka = replace(settings, bootstrap_servers=external or broker.bootstrap_servers)
        try:
            print(
                f"processor benchmark: {args.n} transactions, batch {args.batch_size}, "
                f"{args.partitions} partitions, {os.cpu_count()} CPUs, broker {'external' if external else 'embedded Tansu'}; "
                f"{machine_speed()}"
            )
            for label, url, cleanup in targets(args.database, Path(workdir)):
                try:
                    figures = run_once(
                        kafka, label, url, args.n, args.batch_size, args.profile, args.replicas, args.plaintext
                    )
                    print(figures.line(), flush=True)
                finally:
                    cleanup()
        finally:
            if broker:
                broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
