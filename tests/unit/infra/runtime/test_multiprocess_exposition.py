"""/metrics of a gunicorn service (many workers' files, PROMETHEUS_MULTIPROC_DIR) answers whatever a
worker's file is doing: being created, left half-created by a killed worker, removed, or unreadable."""

import struct
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from infra.runtime.metrics import exposition, serve_metrics
from infra.stack.embedded_broker import free_port

# A worker process: one counter sample in its own file, as a gunicorn worker writes them.
_WORKER = """
from prometheus_client import Counter
Counter("unit_payments", "payments", registry=None).inc(3)
"""


@pytest.fixture
def metrics_dir(tmp_path, monkeypatch):
    subprocess.run([sys.executable, "-c", _WORKER], env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}, check=True)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    return tmp_path


def test_a_file_a_worker_has_created_but_not_yet_sized_does_not_fail_the_scrape(metrics_dir):
    # MmapedDict opens the file (0 bytes) and truncates it to size a moment later; a worker killed in
    # between leaves it so for good (prometheus/client_python#1199): every scrape failed with struct.error.
    (metrics_dir / "counter_4242.db").touch()
    (metrics_dir / "histogram_4242.db").write_bytes(b"\0\0\0")

    body, _ = exposition()

    assert b"unit_payments_total 3.0" in body


def test_a_scrape_that_cannot_be_built_answers_500_instead_of_dropping_the_connection(metrics_dir):
    # A header that claims more than the file holds: prometheus_client cannot read it.
    (metrics_dir / "counter_4343.db").write_bytes(struct.pack("i", 4096) + b"\0" * 12)
    port = free_port()
    server = serve_metrics(port, host="127.0.0.1")
    try:
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert answer.value.code == 500
        assert b"metrics unavailable" in answer.value.read()
    finally:
        server.shutdown()
        server.server_close()
