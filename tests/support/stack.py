"""The whole stack for tests: real processes on free ports, data and logs in a temp folder."""
from __future__ import annotations

import uuid
from pathlib import Path

from infra.embedded_broker import free_port
from infra.stack import Stack, StackSettings


def stack_settings_for_tests(var_dir: Path, kafka_bootstrap: str) -> StackSettings:
    return StackSettings(
        kafka_port=0,
        api_port=free_port(),
        panel_port=free_port(),
        processor_metrics_port=free_port(),
        results_metrics_port=free_port(),
        webhooks_metrics_port=free_port(),
        prometheus_port=free_port(),
        var_dir=var_dir,
        external_kafka=kafka_bootstrap,
        topic_prefix=f"s{uuid.uuid4().hex[:8]}_",
        partitions=3,
        with_prometheus=False,
    )


def log_tails(stack: Stack, lines: int = 30) -> str:
    """The last lines of every service log, for a failure message."""
    parts = []
    for path in sorted(stack.log_dir.glob("*.log")):
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {path.name}\n" + "\n".join(tail))
    return "\n".join(parts)
