"""A soak of the embedded stack: ``python -m benchmarks.soak`` (``make bench-soak``).

The whole stack as `make run` starts it (embedded broker, SQLite, processor, results consumer,
webhook dispatcher, panel, Prometheus when installed), on free ports, then BENCH_SOAK_RATE
transactions/s (150) for BENCH_SOAK_MINUTES minutes (30) from the open-loop generator
(``benchmarks/open_loop.py``). One row per minute: API p50/p99 (from each request's scheduled
time), accept -> decided p50/p99 (every BENCH_SOAK_SAMPLE_EVERY-th transaction followed through
GET every 5 ms, 10: as a merchant polling sees it), accept -> recorded p50/p99 for the same
transactions (when the results consumer wrote the decision to the ledger: its event's ``created_at``,
written in the same database transaction, on the same machine's clock; the difference from *decided*
is the poller's cadence and its GETs' own time), and each component's CPU per accepted transaction
(``benchmarks/cpu.py``, the broker included), with the load average; at the end, whether anything is still pending, and the ratios of
the last minute to minute 2 for the decided p99 and the broker's CPU per transaction (how the cost
grows with uptime). BENCH_SOAK_WINDOW_SECONDS (60) shortens the "minute" for smoke tests.

The soak's merchant has the load-test rate-limit override (tests.support.stack).
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy

from infra.runtime.db import build_engine

from benchmarks.api import RELAY, gateway_stack, open_loop_request, seconds_until_nothing_pending
from benchmarks.cpu import CpuMeter, machine_speed
from benchmarks.open_loop import OpenLoop, OpenLoopResult, percentile
from benchmarks.stopping import stop_cleanly_on_sigterm
from gateway_api.adapters.tables import events
from gateway_api.domain.events import TYPE_OF_STATUS, event_id

COMPONENTS = ("api", "broker", "processor", "results", "webhooks", "panel", "prometheus", RELAY)


@dataclass(frozen=True)
class Options:
    rate: float
    minutes: int
    window_seconds: float
    sample_every: int

    @classmethod
    def from_env(cls) -> "Options":
        env = os.environ.get
        return cls(
            rate=float(env("BENCH_SOAK_RATE", "150")),
            minutes=int(env("BENCH_SOAK_MINUTES", "30")),
            window_seconds=float(env("BENCH_SOAK_WINDOW_SECONDS", "60")),
            sample_every=int(env("BENCH_SOAK_SAMPLE_EVERY", "10")),
        )


@dataclass(frozen=True)
class Minute:
    number: int
    result: OpenLoopResult
    cpu: dict[str, float]
    load: float
    renewals: tuple = ()  # the embedded broker started afresh during the minute (infra/stack/broker_renewal.py)
    recorded_after: tuple[float, ...] = ()  # seconds from the 202 to the decision in the ledger, per sample

    def per_transaction_us(self, component: str) -> float:
        accepted = self.result.accepted
        return self.cpu.get(component, 0.0) / accepted * 1e6 if accepted else float("nan")


def header(components: tuple[str, ...]) -> str:
    cells = " | ".join(f"{c} us/tx" for c in components)
    return (
        f"| minute | accepted | failed / undecided | API p50 / p99 ms | decided p50 / p99 ms (sampled) | "
        f"recorded p50 / p99 ms | {cells} | broker renewals | load |\n" + "|---" * (len(components) + 8) + "|"
    )


def row(minute: Minute, components: tuple[str, ...]) -> str:
    r = minute.result
    cells = " | ".join(f"{minute.per_transaction_us(c):,.0f}" for c in components)
    return (
        f"| {minute.number} | {r.accepted:,} | {r.failed} / {r.undecided} | "
        f"{_p50_p99_ms(r.latencies)} | {_p50_p99_ms(r.decided_after)} ({len(r.decided_after)}) | "
        f"{_p50_p99_ms(minute.recorded_after) if minute.recorded_after else '-'} | {cells} | {renewals(minute)} | "
        f"{minute.load:.1f} |"
    )


def _p50_p99_ms(seconds) -> str:
    values = list(seconds)
    return f"{percentile(values, 0.5) * 1000:.0f} / {percentile(values, 0.99) * 1000:.0f}"


def recorded_after(database_url: str, decided: list[tuple[str, str, float]]) -> tuple[float, ...]:
    """Seconds from each transaction's 202 to the results consumer recording its decision: the
    decision's event is written in the same ledger transaction, stamped with that process's clock."""
    if not decided:
        return ()
    accepted_at = {event_id(TYPE_OF_STATUS[status], tid): at for tid, status, at in decided}
    engine = build_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sqlalchemy.select(events.c.id, events.c.created_at).where(events.c.id.in_(list(accepted_at)))
            ).all()
    finally:
        engine.dispose()
    return tuple(
        created_at.replace(tzinfo=timezone.utc).timestamp() - accepted_at[identifier] for identifier, created_at in rows
    )


def renewals(minute: Minute) -> str:
    """How many, and how long the API's writes waited for each (ms)."""
    if not minute.renewals:
        return "0"
    return f"{len(minute.renewals)} (held " + ", ".join(f"{r.held_ms:.0f}" for r in minute.renewals) + " ms)"


def ratios(minutes: list[Minute]) -> str:
    if len(minutes) < 3:
        return "ratios last minute / minute 2: fewer than 3 minutes, none"
    second, last = minutes[1], minutes[-1]
    p99 = percentile(last.result.decided_after, 0.99) / percentile(second.result.decided_after, 0.99)
    broker = last.per_transaction_us("broker") / second.per_transaction_us("broker")
    return f"ratios minute {last.number} / minute 2: decided p99 x{p99:.2f}, broker CPU per transaction x{broker:.2f}"


def soak(options: Options, folder: Path) -> list[Minute]:
    print(
        f"soak: {options.rate:g} transactions/s for {options.minutes} x {options.window_seconds:g} s on the "
        f"embedded stack (SQLite), {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}; {machine_speed()}\n",
        flush=True,
    )
    minutes = []
    with gateway_stack(folder) as (stack, auth):
        post, get_headers = open_loop_request(stack, auth)
        # One connection per transaction a second, up to 128: each is used again within gunicorn's
        # 2-second keep-alive (at 20/s, 128 connections would sit idle 6 s and be closed under the sender).
        connections = max(4, min(128, int(options.rate)))
        loop = OpenLoop(
            "127.0.0.1",
            stack.settings.api_port,
            post,
            get_headers,
            connections=connections,
            sample_every=options.sample_every,
        )
        loop.run(options.rate, 2)  # warm-up: connections, the group's first fetches
        meter = CpuMeter(stack.pids, this_process=RELAY, retired=stack.retired_cpu_seconds)
        components = tuple(c for c in COMPONENTS if c in meter.trees or c == RELAY)
        print(header(components), flush=True)
        for number in range(1, options.minutes + 1):
            meter.start()
            renewed = len(stack.broker_renewals)
            result = loop.run(options.rate, options.window_seconds)
            cpu = meter.stop()
            minutes.append(
                Minute(
                    number,
                    result,
                    cpu,
                    os.getloadavg()[0],
                    tuple(stack.broker_renewals[renewed:]),
                    recorded_after(stack.settings.gateway_db, result.decided),
                )
            )
            print(row(minutes[-1], components), flush=True)
        pending_after = seconds_until_nothing_pending(stack, auth)
    print("\n" + ratios(minutes))
    for r in (r for m in minutes for r in m.renewals):
        print(
            f"broker renewal: writes held {r.held_ms:.0f} ms = drain {r.drain_ms:.0f} + swap {r.swap_ms:.0f} "
            f"+ rejoin {r.rejoin_ms:.0f} (+ the rest: closing the gate){'' if r.rejoined else ', NOT all rejoined'}"
        )
    print(
        "pending at the end: " + ("none" if pending_after is not None else "SOME (still pending after 30 s)"),
        flush=True,
    )
    return minutes


def main() -> int:
    stop_cleanly_on_sigterm()
    options = Options.from_env()
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as folder:
        soak(options, Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
