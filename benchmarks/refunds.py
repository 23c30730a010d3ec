"""Refund rounds under kills: ``python -m benchmarks.refunds`` (``make bench-refunds``).

Runs BENCH_REFUNDS_ROUNDS rounds (default 10,000) of one approved payment and 5-20 concurrent
refunds (tests/support/refund_rounds.py) on BENCH_REFUNDS_RUNNERS runners while the processor and
the results consumer are SIGKILLed and restarted every BENCH_REFUNDS_KILL_EVERY seconds, then prints
rounds, refunds decided, kills and over-refunds (and any other broken promise). The stack's own
broker; the databases are SQLite unless BENCH_REFUNDS_DATABASE=mysql (throwaway databases on
TEST_MYSQL_URL's server). Exit status 1 if any round broke a promise.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from infra.stack import Stack, StackSettings
from infra.stack.embedded_broker import free_port

from benchmarks.stopping import stop_cleanly_on_sigterm
from tests.e2e.helpers import basic_auth
from tests.support.mysql import ServerUnreachable, throwaway_database
from tests.support.refund_rounds import Killer, RoundRunner, Tally, check, wait_for_final

DEFAULT_MYSQL_SERVER = "mysql+pymysql://root@127.0.0.1:3306/test"


def run(rounds: int, runners: int, kill_every: float, settings: StackSettings, max_seconds: float) -> int:
    started = time.monotonic()
    with Stack(settings, console=None) as stack:
        # A merchant per runner, as a gateway has many: the topics are keyed by merchant, so the rounds spread
        # over the partitions (one merchant fills one partition, and the embedded broker's cost per fetch grows
        # with what a partition holds: with one merchant the rate fell from 5.1 to 4.1 rounds/s in 30 minutes).
        auths = [basic_auth(stack.create_merchant(f"Bench refunds {i}")) for i in range(runners)]
        tally, stop = Tally(), threading.Event()
        share = [rounds // runners + (1 if i < rounds % runners else 0) for i in range(runners)]
        threads = [
            RoundRunner(settings.api_url, auths[seed], tally, stop, seed, max_rounds=n) for seed, n in enumerate(share)
        ]
        killer = Killer(stack, tally, stop, kill_every)
        for thread in [*threads, killer]:
            thread.start()
        next_report = started + 60
        while any(thread.is_alive() for thread in threads) and time.monotonic() - started < max_seconds:
            time.sleep(1)
            if time.monotonic() >= next_report:
                next_report += 60
                print(
                    f"  {time.monotonic() - started:.0f} s: {len(tally.rounds)} rounds, {tally.kills} kills, "
                    f"load {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
        rounds_seconds = time.monotonic() - started
        stop.set()  # BENCH_REFUNDS_SECONDS reached: the rounds done so far are checked
        for thread in threads:
            thread.join(120)
        killer.join(60)
        pending = wait_for_final(settings.gateway_db, 120)
        verdict = check(tally, settings.gateway_db, settings.processor_db)
    seconds = time.monotonic() - started
    print(
        f"refunds bench ({'mysql' if settings.gateway_database_url else 'sqlite'}): {verdict.rounds} rounds, "
        f"{verdict.refunds_decided} refunds decided ({verdict.succeeded} succeeded), {verdict.kills} kills, "
        f"{verdict.over_refunds} over-refunds, {pending} never final, {len(verdict.problems)} other problems, "
        f"rounds done after {rounds_seconds:.0f} s ({seconds:.0f} s with the checks), load {os.getloadavg()[0]:.2f}"
    )
    for problem in verdict.problems[:20]:
        print("  " + problem)
    return 0 if verdict.over_refunds == 0 and not verdict.problems and pending == 0 else 1


# A SIGKILLed consumer keeps its partitions until its session times out, and the embedded broker takes
# about half of the timeout to let a member join: at the services' 6 s a kill every 10 s stalled decisions
# ~8 s of every 10 (1 round/s against 6.5 without kills). The bench's stack uses 2 s unless
# KAFKA_SESSION_TIMEOUT_MS says otherwise, so that rounds measure refunds, not the broker's waits.
BENCH_SESSION_TIMEOUT_MS = "2000"


def main(argv=None) -> int:
    stop_cleanly_on_sigterm()
    os.environ.setdefault("KAFKA_SESSION_TIMEOUT_MS", BENCH_SESSION_TIMEOUT_MS)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_REFUNDS_ROUNDS", 10000)))
    parser.add_argument("--runners", type=int, default=int(os.environ.get("BENCH_REFUNDS_RUNNERS", 6)))
    parser.add_argument("--kill-every", type=float, default=float(os.environ.get("BENCH_REFUNDS_KILL_EVERY", 10)))
    parser.add_argument("--max-seconds", type=float, default=float(os.environ.get("BENCH_REFUNDS_SECONDS", 3600)))
    parser.add_argument("--database", default=os.environ.get("BENCH_REFUNDS_DATABASE", "sqlite"))
    args = parser.parse_args(argv)
    drops = []
    with tempfile.TemporaryDirectory() as folder:
        settings = StackSettings(
            kafka_port=free_port(),
            api_port=free_port(),
            panel_port=free_port(),
            processor_metrics_port=free_port(),
            results_metrics_port=free_port(),
            webhooks_metrics_port=free_port(),
            api_metrics_port=free_port(),
            panel_metrics_port=free_port(),
            var_dir=Path(folder),
            with_prometheus=False,
            log_level="WARNING",
        )
        if args.database == "mysql":
            try:
                server = os.environ.get("TEST_MYSQL_URL", DEFAULT_MYSQL_SERVER)
                (processor_db, drop_p), (gateway_db, drop_g) = (
                    throwaway_database(server, "bench"),
                    throwaway_database(server, "bench"),
                )
            except ServerUnreachable as exc:
                print(exc, file=sys.stderr)
                return 1
            drops += [drop_p, drop_g]
            settings = replace(settings, processor_database_url=processor_db, gateway_database_url=gateway_db)
        try:
            return run(args.rounds, max(1, args.runners), args.kill_every, settings, args.max_seconds)
        finally:
            for drop in drops:
                drop()


if __name__ == "__main__":
    sys.exit(main())
