import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from infra.runtime.kafka import KafkaSettings

from tests.support.transactions import TEST_CARD_KEYS


class ProcessorProcess:
    """``python -m processor`` as a real child process, its output kept in a file."""

    def __init__(self, env: dict, log_path: Path):
        self._env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> "ProcessorProcess":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "processor"], env=self._env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


class Holds:
    """The test's side of infra/runtime/hold_points.py: hold the processor at a point of its batch loop."""

    def __init__(self, directory: Path):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def hold(self, point: str) -> None:
        (self.directory / f"{point}.reached").unlink(missing_ok=True)
        (self.directory / f"{point}.hold").touch()

    def release(self, point: str) -> None:
        (self.directory / f"{point}.hold").unlink()

    def reached(self, point: str) -> list[tuple[str, int, int]] | None:
        """The (topic, partition, offset) of the batch held there, once the processor got there."""
        path = self.directory / f"{point}.reached"
        return [tuple(position) for position in json.loads(path.read_text())] if path.exists() else None


def topic_prefix(kafka: KafkaSettings) -> str:
    return kafka.topics.transactions[: -len("transactions")]


def group_of(kafka: KafkaSettings) -> str:
    """The consumer group of a test's processors: its own, so no member another test killed delays its join."""
    return f"{topic_prefix(kafka)}processor"


def processor_env(kafka: KafkaSettings, database_url: str, **extra) -> dict:
    return (
        os.environ
        | {
            "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "KAFKA_TOPIC_PREFIX": topic_prefix(kafka),
            "DATABASE_URL": database_url,
            "METRICS_PORT": "0",
            "PROCESSOR_GROUP_ID": group_of(kafka),
            "LOG_LEVEL": "INFO",
            "CARD_DATA_KEYS": TEST_CARD_KEYS.to_env_value(),
        }
        | extra
    )


@pytest.fixture
def holds(tmp_path) -> Holds:
    return Holds(tmp_path / "holds")


@pytest.fixture
def processor_factory(kafka_settings, sqlite_url, tmp_path):
    started: list[ProcessorProcess] = []

    def start(**extra) -> ProcessorProcess:
        process = ProcessorProcess(processor_env(kafka_settings, sqlite_url, **extra), tmp_path / "processor.log")
        started.append(process.start())
        return process

    yield start
    for process in started:
        process.stop()
