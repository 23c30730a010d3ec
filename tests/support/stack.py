"""The whole stack for tests: real processes on free ports, data and logs in a temp folder."""

from __future__ import annotations

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

    def attempt(number: int) -> Stack:
        stack = Stack(stack_settings_for_tests(var_dir / f"attempt-{number}", kafka_bootstrap), console=None)
        try:
            return stack.start(timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - reported with the services' logs
            report = f"{exc}\n{log_tails(stack)}"
            raise (PortTaken if lost_a_port_race(report) else StackDidNotStart)(report) from exc

    return retry_on_port_collision(attempt)


def stack_settings_for_tests(var_dir: Path, kafka_bootstrap: str) -> StackSettings:
    return StackSettings(
        kafka_port=0,
        api_port=free_port(),
        panel_port=free_port(),
        processor_metrics_port=free_port(),
        results_metrics_port=free_port(),
        webhooks_metrics_port=free_port(),
        api_metrics_port=free_port(),
        panel_metrics_port=free_port(),
        prometheus_port=free_port(),
        var_dir=var_dir,
        external_kafka=kafka_bootstrap,
        topic_prefix=f"s{uuid.uuid4().hex[:8]}_",
        partitions=3,
        with_prometheus=False,
    )


def started_stack(settings: StackSettings):
    """A generator for a fixture: the stack started (the test fails with the services' logs if it does
    not start), yielded, then stopped."""
    import pytest

    stack = Stack(settings, console=None)
    try:
        stack.start(timeout=90)
    except Exception as exc:  # noqa: BLE001 - whatever stopped the start, the test fails with the logs
        pytest.fail(f"the stack did not start: {exc}\n{log_tails(stack)}", pytrace=False)
    yield stack
    stack.stop()


def log_tails(stack: Stack, lines: int = 30) -> str:
    """The last lines of every service log, for a failure message."""
    parts = []
    for path in sorted(stack.log_dir.glob("*.log")):
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {path.name}\n" + "\n".join(tail))
    return "\n".join(parts)
