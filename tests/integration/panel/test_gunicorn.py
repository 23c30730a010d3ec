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
    assert response.status_code == 302, response.text
    return browser.cookies["panel_session"]


def _processes(streams: list[list[str]]) -> set[str]:
    return {line for lines in streams for line in lines if line.startswith('data: {"process"')}


def open_stream(url: str, cookie: str, received: list[str]) -> requests.Response:
    response = requests.get(url + "/stream", cookies={"panel_session": cookie}, stream=True, timeout=(5, 30))

    def read():
        try:
            for line in response.iter_lines(decode_unicode=True):
                received.append(line)
        except (requests.RequestException, AttributeError):
            pass

    threading.Thread(target=read, daemon=True).start()
    return response


def test_every_worker_streams_every_result_and_sigterm_stops_within_seconds(gunicorn_panel, kafka_settings, tmp_path):
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
    process.wait(10)
    assert time.monotonic() - started < 5
    for response in responses:
        response.close()
    lines = [json.loads(line) for line in (tmp_path / "panel.log").read_text().splitlines()]  # JSON only
    assert {line["service"] for line in lines} == {"panel"}
    assert not [line for line in lines if line["logger"] == "gunicorn.access"]
    assert len({line["pid"] for line in lines if line["msg"].startswith("Booting worker")}) == 2
