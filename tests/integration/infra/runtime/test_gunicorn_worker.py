"""KeepServingThreadWorker under a real gunicorn: a keep-alive connection's next request is served by
the thread that answered the last one, without a trip through the main loop, while an idle
connection still holds no thread and a waiting connection is never starved by a lingering one."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from tests.support import wait_until
from tests.support.ports import listening_socket

ROOT = Path(__file__).resolve().parents[4]
WORKER = "infra.runtime.gunicorn_worker.KeepServingThreadWorker"

# The app answers how many times its worker handed the request's connection to the thread pool so far
# (once when it is new, and in stock gthread again for every keep-alive request after the first), how
# many requests it served in all, and which thread served this one.
APP = textwrap.dedent(
    """
    import collections, json, os, threading

    from infra.runtime import gunicorn_worker

    handed = collections.Counter()  # per client port: the test's other connections (the readiness probe's
    served = 0                      # closing, say) hand theirs over at any time

    def post_worker_init(worker):
        # Each test's own wait and run length: a loaded CI machine may take more than 5 ms to send the next one.
        gunicorn_worker.KEEP_SERVING_SECONDS = float(os.environ["KEEP_SERVING_SECONDS"])
        gunicorn_worker.KEEP_SERVING_REQUESTS = int(os.environ["KEEP_SERVING_REQUESTS"])
        enqueue = worker.enqueue_req

        def counted(conn):
            handed[conn.client[1]] += 1
            enqueue(conn)

        worker.enqueue_req = counted

    def app(environ, start_response):
        global served
        served += 1
        port = int(environ["REMOTE_PORT"])
        body = json.dumps({"handed": handed[port], "served": served, "thread": threading.get_ident()}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    """
)


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(worker_class: str, threads: int, wait: float = 2.0, in_a_row: int = 100) -> int:
        (tmp_path / "keep_serving_app.py").write_text(APP)
        log = open(tmp_path / f"gunicorn-{len(started)}.log", "wb")  # read back on failure through tmp_path
        with listening_socket() as sock:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    "python:keep_serving_app",
                    "keep_serving_app:app",
                    "-k",
                    worker_class,
                    "--workers",
                    "1",
                    "--threads",
                    str(threads),
                    "--bind",
                    f"fd://{sock.fileno()}",
                ],
                cwd=tmp_path,
                env={
                    "PYTHONPATH": f"{tmp_path}:{ROOT}",
                    "PATH": "/usr/bin:/bin",
                    "KEEP_SERVING_SECONDS": str(wait),
                    "KEEP_SERVING_REQUESTS": str(in_a_row),
                },
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(sock.fileno(),),
            )
            port = sock.getsockname()[1]
        started.append((process, log))
        wait_until(lambda: _answers(port), 30, interval=0.1, message="gunicorn's first answer")
        return port

    yield start
    for process, log in started:
        process.terminate()
        process.wait(15)
        log.close()


def _answers(port: int) -> bool:
    probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        # "Connection: close": gunicorn closes the probe's connection itself. A kept-alive probe's
        # closing would reach the worker later, as one more connection handed to the pool, and a thread
        # that sees it queued stops keeping its own connection (a fresh-clone CI run: 1, 2, 2, 2, 2).
        _get(probe, {"Connection": "close"})
        return True
    except OSError:
        return False
    finally:
        probe.close()


def _get(connection: http.client.HTTPConnection, headers: dict | None = None) -> dict:
    connection.request("GET", "/", headers=headers or {})
    response = connection.getresponse()
    assert response.status == 200
    return json.loads(response.read())


@pytest.mark.parametrize("worker_class, hand_offs", [("gthread", [1, 2, 3, 4, 5]), (WORKER, [1, 1, 1, 1, 1])])
def test_back_to_back_requests_on_one_connection_stay_with_their_thread(serve, worker_class, hand_offs):
    port = serve(worker_class, threads=4)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    answers = [_get(connection) for _ in range(5)]
    # One hand-off for the new connection; stock gthread hands every later request over again.
    assert [answer["handed"] for answer in answers] == hand_offs
    if worker_class == WORKER:
        assert len({answer["thread"] for answer in answers}) == 1


def test_an_idle_connection_goes_back_to_the_poller_and_holds_no_thread(serve):
    port = serve(WORKER, threads=1, wait=0.05)
    idle = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    first = _get(idle)
    time.sleep(0.5)  # well past the wait: the connection waits in the poller now
    # The only thread is free: another connection is served, and the idle one too when it speaks again.
    other = _get(http.client.HTTPConnection("127.0.0.1", port, timeout=5))
    again = _get(idle)
    assert (first["handed"], other["handed"], again["handed"]) == (1, 1, 2)


def test_a_waiting_connection_is_served_after_at_most_a_few_requests_of_a_busy_one(serve):
    # Without a limit on the run, the only thread would serve the busy connection as long as it sends.
    port = serve(WORKER, threads=1, in_a_row=1_000_000)
    last_busy = []
    stop = threading.Event()

    def keep_busy():
        busy = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        while not stop.is_set():
            last_busy.append(_get(busy)["served"])

    hammer = threading.Thread(target=keep_busy, daemon=True)
    hammer.start()
    try:
        wait_until(lambda: len(last_busy) >= 20, 10, message="the busy connection's first answers")
        before = last_busy[-1]
        other = _get(http.client.HTTPConnection("127.0.0.1", port, timeout=5))
    finally:
        stop.set()
        hammer.join(10)
    # The only thread stops waiting on the busy connection as soon as another waits for it (the main
    # loop notices that between two of the busy one's requests; a loaded machine may let a few more by).
    assert other["served"] - before <= 10
