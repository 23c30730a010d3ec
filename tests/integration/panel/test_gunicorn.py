"""The panel as it runs in production: gunicorn gthread workers, each consuming every result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import requests

from infra.kernel.contracts import TransactionResult
from infra.runtime.kafka import Record, build_acked_producer
from infra.stack.embedded_broker import free_port

from tests.integration.panel.conftest import as_operator, sign_in
from tests.support import wait_until
from tests.support.ports import listening_socket

ROOT = Path(__file__).resolve().parents[3]
SECRET_KEY = "integration-test-panel-key-0123456789"  # 32+ characters: gunicorn refuses shorter ones


@pytest.fixture
def gunicorn_panel(api, kafka_settings, tmp_path):
    metrics_dir = tmp_path / "metrics"  # of its own: prometheus_client reads every *.db there (the ledger is test.db)
    metrics_dir.mkdir()
    env = {
        **os.environ,
        "PANEL_SECRET_KEY": SECRET_KEY,
        "PANEL_GATEWAY_URL": api[0],
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": kafka_settings.topics.results.removesuffix("transactions_result"),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "WEB_CONCURRENCY": "2",
        "PYTHONPATH": str(ROOT),
        "METRICS_PORT": str(free_port()),
        "RATE_LIMIT_STORAGE_URL": f"sqlite:///{tmp_path / 'rate-limits.db'}",  # not the checkout's var/
    }
    log = open(tmp_path / "panel.log", "wb")  # the test reads it back through tmp_path
    with listening_socket() as sock:  # bound here and handed over: no other process can take the port
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:panel.gunicorn_conf",
                "panel:create_app()",
                "--bind",
                f"fd://{sock.fileno()}",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(sock.fileno(),),
        )
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        wait_until(lambda: _ready(url), 30, interval=0.1, message="the panel's /readyz")
        process.metrics_url = f"http://127.0.0.1:{env['METRICS_PORT']}/metrics"
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def _ready(url: str) -> bool:
    try:
        return all(urllib.request.urlopen(url + "/readyz", timeout=1).status == 200 for _ in range(4))
    except OSError:
        return False


def operator_cookie(url: str) -> str:
    """An operator's session cookie, from the sign-in form (any worker issues it, all accept it)."""
    browser, response = sign_in(url, as_operator())
    browser.close()  # no idle keep-alive connection left: a stopping worker lets those linger 2 s (gunicorn's own)
    assert response.status_code == 302, response.text
    return browser.cookies["panel_session"]


def _processes(streams: list[list[str]]) -> set[str]:
    return {line for lines in streams for line in lines if line.startswith('data: {"process"')}


ENDED = "(the response ended)"


def open_stream(url: str, cookie: str, received: list[str]) -> requests.Response:
    response = requests.get(url + "/stream", cookies={"panel_session": cookie}, stream=True, timeout=(5, 30))

    def read():
        try:
            for line in response.iter_lines(decode_unicode=True):
                received.append(line)
            received.append(ENDED)  # the server finished the response: its last chunk came
        except (requests.RequestException, AttributeError):
            pass  # cut off: no last chunk

    response.reader = threading.Thread(target=read, daemon=True)
    response.reader.start()
    return response


def test_every_worker_streams_every_result_and_sigterm_stops_within_seconds(
    gunicorn_panel, kafka_settings, tmp_path, figures
):
    url, process = gunicorn_panel
    streams, responses = [], []
    while len(_processes(streams)) < 2:  # until streams are open on both workers
        assert len(streams) < 40, "every stream landed on the same worker"
        streams.append([])
        # A session per stream: one session may hold only a few (panel.use_cases.hub.STREAMS_PER_SESSION).
        responses.append(open_stream(url, operator_cookie(url), streams[-1]))
        wait_until(lambda: any(line.startswith('data: {"process"') for line in streams[-1]), 10, message="hello")
    result = TransactionResult(
        "tx-1",
        "rejected",
        "invalid expiration month",
        "acc-1",
        "5.00",
        "visa",
        "1111",
        None,
        "2026-11-23T00:00:00+00:00",
    )
    build_acked_producer(kafka_settings, "test").send([Record(kafka_settings.topics.results, result.to_json())], 10)
    wait_until(
        lambda: all(any('"id": "tx-1"' in line for line in lines) for lines in streams),
        5,
        message="the result on every stream",
    )
    assert requests.get(url + "/metrics", timeout=5).status_code == 404  # public port: the ingress routes "/"
    metrics = requests.get(process.metrics_url, timeout=5).text  # the master's own listener
    assert f"panel_sse_clients {float(len(streams))}" in metrics and "panel_results_received_total 2.0" in metrics
    assert "process_resident_memory_bytes" in metrics  # of the master that answered

    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    stopped_in = time.monotonic() - started
    for response in responses:
        response.reader.join(10)  # the server's end of every stream is gone: each reader saw how it ended
        response.close()
    lines = [json.loads(line) for line in (tmp_path / "panel.log").read_text().splitlines()]  # JSON only
    # The workers ended their streams and exited by themselves: none was still running at the graceful
    # timeout (gunicorn's master SIGKILLs those and says so). Streams left open would hold their threads,
    # and the worker, until its own graceful timeout. The time is printed, not asserted: a loaded CI
    # machine stretches it (5.4 s once, against 2.6 on a quiet one).
    assert not [line for line in lines if "SIGKILL" in line["msg"]]
    assert len([line for line in lines if line["msg"].startswith("Worker exiting")]) == 2
    # Every stream was ended by its worker (the response's last chunk), not cut off by the worker's exit.
    assert [lines[-1] if lines else None for lines in streams] == [ENDED] * len(streams)
    figures(f"SIGTERM to the master's exit: {stopped_in:.2f} s with {len(streams)} open streams")
    assert {line["service"] for line in lines} == {"panel"}
    assert not [line for line in lines if line["logger"] == "gunicorn.access"]
    assert len({line["pid"] for line in lines if line["msg"].startswith("Booting worker")}) == 2
