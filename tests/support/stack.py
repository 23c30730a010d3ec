"""The whole stack for tests: real processes on free ports, data and logs in a temp folder."""

from __future__ import annotations

import dataclasses
import os
import uuid
from pathlib import Path

from infra.stack import Stack, StackSettings
from infra.stack.embedded_broker import free_port

from tests.support.ports import PortTaken, lost_a_port_race, retry_on_port_collision

# The documented per-account override (docs/operations.md, Rate limits) of the benchmarks' and soaks' merchants:
# they measure the gateway, not its rate limiter.
LOAD_TEST_RATE_LIMIT_PER_SECOND = 100_000


def load_test_merchant(stack: Stack, name: str) -> dict:
    merchant = stack.create_merchant(name)
    stack.set_rate_limit(merchant["id"], LOAD_TEST_RATE_LIMIT_PER_SECOND)
    return merchant


class StackDidNotStart(RuntimeError):
    pass


def start_stack(var_dir: Path, kafka_bootstrap: str, timeout: float = 90) -> Stack:
    """A started stack; started again on fresh ports if one of its children lost the race for a port."""
    return start_on_fresh_ports_if_needed(stack_settings_for_tests(var_dir / "attempt-1", kafka_bootstrap), timeout)


def start_on_fresh_ports_if_needed(settings: StackSettings, timeout: float) -> Stack:
    """``settings``' stack, started; if a child lost a port it was given (another program bound it between
    the pick and the child's bind), the same stack again on fresh ports, topics and data folder."""

    def attempt(number: int) -> Stack:
        stack = Stack(settings if number == 1 else with_fresh_ports(settings, number), console=None)
        try:
            return stack.start(timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - reported with the services' logs
            report = f"{exc}\n{log_tails(stack)}"
            raise (PortTaken if lost_a_port_race(report) else StackDidNotStart)(report) from exc

    return retry_on_port_collision(attempt)


def with_fresh_ports(settings: StackSettings, attempt: int) -> StackSettings:
    """The same stack on ports not yet tried, in a data folder of its own (the failed attempt's SQLite
    files stay for the report), with topics of its own on a shared broker (the failed attempt's
    consumers may have joined its groups); an embedded broker is a new one anyway."""
    var_dir = settings.var_dir
    if var_dir.name.startswith("attempt-"):
        var_dir = var_dir.parent
    return dataclasses.replace(
        settings,
        kafka_port=free_port() if settings.kafka_port else 0,
        **{name: free_port() for name in _PORTS},
        var_dir=var_dir / f"attempt-{attempt}",
        topic_prefix=_topic_prefix() if settings.external_kafka else settings.topic_prefix,
    )


_PORTS = (
    "api_port",
    "panel_port",
    "processor_metrics_port",
    "results_metrics_port",
    "webhooks_metrics_port",
    "api_metrics_port",
    "panel_metrics_port",
    "prometheus_port",
)


def _topic_prefix() -> str:
    return f"s{uuid.uuid4().hex[:8]}_"


def stack_settings_for_tests(var_dir: Path, kafka_bootstrap: str) -> StackSettings:
    return StackSettings(
        kafka_port=0,
        **{name: free_port() for name in _PORTS},
        var_dir=var_dir,
        external_kafka=kafka_bootstrap,
        topic_prefix=_topic_prefix(),
        partitions=3,
        with_prometheus=False,
    )


def started_stack(settings: StackSettings):
    """A generator for a fixture: the stack started (again on fresh ports if a child lost one; the test
    fails with the services' logs if it does not start), yielded, then stopped."""
    import pytest

    try:
        stack = start_on_fresh_ports_if_needed(settings, timeout=90)
    except (PortTaken, StackDidNotStart) as exc:
        pytest.fail(f"the stack did not start: {exc}", pytrace=False)
    yield stack
    stack.stop()


def log_tails(stack: Stack, lines: int = 30) -> str:
    """The last lines of every service log, for a failure message."""
    parts = []
    for path in sorted(stack.log_dir.glob("*.log")):
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {path.name}\n" + "\n".join(tail))
    return "\n".join(parts)


# Every port `python -m infra.stack` listens on, by the variable that sets it: a test that runs the
# stack as `make run` does sets them all to free ports (one left out takes its default, and two such
# tests on xdist workers collide there).
STACK_PORT_VARIABLES = (
    "KAFKA_PORT",
    "GATEWAY_API_PORT",
    "PANEL_PORT",
    "API_METRICS_PORT",
    "PANEL_METRICS_PORT",
    "PROCESSOR_METRICS_PORT",
    "RESULTS_METRICS_PORT",
    "WEBHOOKS_METRICS_PORT",
    "PROMETHEUS_PORT",
)


def processes_marked(variable: str, mark: str) -> list[int]:
    """Live processes whose environment has ``variable=mark`` (zombies have no environment left to read):
    every process a test's stack started, since each inherits the environment it was started with."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if f"{variable}={mark}".encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
