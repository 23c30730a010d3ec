"""The cached process id: right in a forked child, and what the multiprocess metric files are named by."""

import os
import subprocess
import sys

from infra.runtime.process_id import current_pid


def test_it_is_this_process_id():
    assert current_pid() == os.getpid()


def test_a_forked_child_reads_its_own_id_not_its_parents():
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe and exits at once
        os.write(write, f"{current_pid()} {os.getpid()}".encode())
        os._exit(0)
    os.close(write)
    reported, actual = os.read(read, 100).decode().split()
    os.close(read)
    os.waitpid(child, 0)

    assert reported == actual == str(child)
    assert current_pid() == os.getpid() != child


# A gunicorn worker in miniature: the metrics made after the service's imports, then a fork. The
# cached id is set to a marker first: the file a sample lands in names the id the value asked for.
_WORKER = """
import os, sys
import infra.runtime.metrics  # every service's metrics import it before making theirs
import infra.runtime.process_id as process_id
from prometheus_client import Counter

process_id._pid = 4242
payments = Counter("unit_payments", "payments", registry=None)
payments.inc(2)
child = os.fork()
if child == 0:
    payments.inc(5)
    os._exit(0)
os.waitpid(child, 0)
print(child)
"""


def test_multiprocess_values_write_to_the_file_of_the_cached_id_and_a_forked_child_to_its_own(tmp_path):
    from prometheus_client import CollectorRegistry, multiprocess

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": os.getcwd()}
    child = subprocess.run([sys.executable, "-c", _WORKER], env=env, check=True, capture_output=True, text=True)
    child_pid = int(child.stdout)

    # Before, prometheus_client asked os.getpid() on every sample: the parent's file was its real id's.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["counter_4242.db", f"counter_{child_pid}.db"])
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(tmp_path))
    assert registry.get_sample_value("unit_payments_total") == 7.0
