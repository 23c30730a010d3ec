"""Liveness of a Kafka worker is its loop's heartbeat: a real loop on the real broker, frozen in a
blocking batch handler, turns /healthz to 503 within the stall limit and back to 200 once it moves."""

import errno
import threading
import urllib.error
import urllib.request
import uuid

import pytest
from confluent_kafka import Consumer

from infra.runtime.consumer_loop import BatchConsumerLoop, LoopSettings
from infra.runtime.health import Probes, serve_worker_http
from infra.runtime.kafka import Record, build_acked_producer, consumer_config
from infra.stack.embedded_broker import free_port

from tests.support import wait_until
from tests.support.ports import PortTaken, retry_on_port_collision

STALL_AFTER = 1.5


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def served_on_a_free_port(probes: Probes):
    """serve_worker_http on a free port, again on another one if someone took it in between."""

    def attempt(_number: int):
        port = free_port()
        try:
            return port, serve_worker_http(port, probes, host="127.0.0.1")
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortTaken(str(exc)) from exc
            raise

    return retry_on_port_collision(attempt)


@pytest.fixture
def frozen_worker(kafka_settings):
    """A batch loop whose handler blocks until released, served like the processor serves it."""
    entered, release, stop = threading.Event(), threading.Event(), threading.Event()

    def handle(_batch):
        entered.set()
        release.wait(30)  # a database call that hangs

    consumer = Consumer(consumer_config(kafka_settings, "test", f"g-{uuid.uuid4().hex}"))
    consumer.subscribe([kafka_settings.topics.transactions])
    loop = BatchConsumerLoop(consumer, handle, LoopSettings(poll_timeout=0.1))
    ready = [True]
    port, server = served_on_a_free_port(Probes(loop.heartbeat, STALL_AFTER, [("dependency", lambda: ready[0])]))
    thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", entered, release, ready
    release.set()
    stop.set()
    thread.join(15)
    server.shutdown()
    server.server_close()


def test_a_loop_stuck_in_a_batch_fails_liveness_and_recovers_when_it_moves(kafka_settings, frozen_worker):
    url, entered, release, _ = frozen_worker
    assert status(f"{url}/healthz") == 200 and status(f"{url}/metrics") == 200
    build_acked_producer(kafka_settings, "test").send([Record(kafka_settings.topics.transactions, b"m")], 10)
    assert entered.wait(30), "the loop never got the message"

    wait_until(lambda: status(f"{url}/healthz") == 503, STALL_AFTER + 5, interval=0.1, message="liveness 503")
    assert status(f"{url}/readyz") == 503  # a stuck loop is not ready either
    assert status(f"{url}/metrics") == 200  # the metrics thread still answers: it proves nothing

    release.set()
    wait_until(lambda: status(f"{url}/healthz") == 200, 10, interval=0.1, message="liveness back to 200")


def test_an_idle_loop_stays_alive_and_readiness_follows_its_checks(frozen_worker):
    url, _, _, ready = frozen_worker
    threading.Event().wait(STALL_AFTER + 0.5)  # no message: the loop keeps polling and beating
    assert status(f"{url}/healthz") == 200 and status(f"{url}/readyz") == 200
    ready[0] = False
    assert status(f"{url}/readyz") == 503 and status(f"{url}/healthz") == 200
