"""gunicorn configuration of the API:

    gunicorn -c python:gateway_api.gunicorn_conf 'gateway_api:create_app()' --bind 127.0.0.1:8000

* workers from WEB_CONCURRENCY (default 2), each with WEB_THREADS threads (default 16, gthread
  keeping a busy keep-alive connection on its thread: infra/runtime/gunicorn_worker.py),
  read with the API's Settings (so a bad, missing or weak variable stops the master at start with
  one line naming it, exit code 2). Threads, not processes, carry the concurrency: a request spends
  most of its time waiting for the broker's ack, during which its thread holds no lock and no CPU;
* Prometheus multiprocess mode: PROMETHEUS_MULTIPROC_DIR must exist before any worker imports
  prometheus_client, so it is set here (a fresh temp dir when unset, removed on exit) and emptied at
  start (stale files from a previous run would be summed in); ``child_exit`` marks dead workers so
  their live gauges drop out. /metrics is served by the master on METRICS_PORT (default 9100), a
  listener of its own that the ingress and compose's published ports never reach, and aggregates
  every worker's samples, process_cpu_seconds_total and process_resident_memory_bytes included:
  the workers' sum (``post_worker_init``, infra/runtime/process_metrics.py);
* migrations run once, in the master, before workers start (``migrate_if_enabled``, when
  AUTO_MIGRATE is on); the master then hands its workers AUTO_MIGRATE=false, so their
  ``build_services`` never race it (or each other) to create tables;
* gunicorn's own log lines are JSON like the app's (``logger_class``);
* no preload: librdkafka's threads do not survive fork, so every worker builds its own producer.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from infra.runtime.logs import gunicorn_logger_class
from infra.runtime.settings import from_env_or_exit

from gateway_api.settings import Settings

_settings = from_env_or_exit(Settings)
_own_metrics_dir = not _settings.prometheus_multiproc_dir
_metrics_dir = _settings.prometheus_multiproc_dir or tempfile.mkdtemp(prefix="gateway-api-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir

workers = _settings.web_concurrency
# gthread, but a keep-alive connection's next request is served by the thread that answered the
# last one when it comes within a few ms (infra/runtime/gunicorn_worker.py): 6-8% less CPU per request.
worker_class = "infra.runtime.gunicorn_worker.KeepServingThreadWorker"
threads = _settings.web_threads
timeout = 30
graceful_timeout = 10
accesslog = None  # the app logs every request as JSON itself
logger_class = gunicorn_logger_class("gateway_api")  # gunicorn's own lines as JSON too
preload_app = False
# gunicorn 23+ opens a control socket at one fixed path (~/.gunicorn/gunicorn.ctl) that every
# instance on the host shares, and stopping it added up to 4 s to a shutdown; nothing here uses it.
control_socket_disable = True


def on_starting(server) -> None:
    directory = Path(_metrics_dir)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    from infra.runtime.db import migrate_if_enabled

    from gateway_api.migrations import SCRIPT_LOCATION

    migrate_if_enabled(_settings, SCRIPT_LOCATION)
    os.environ["AUTO_MIGRATE"] = "false"  # workers are forked after this hook: they inherit it


def when_ready(server) -> None:
    """/metrics on METRICS_PORT, served by the master: every worker's samples, off the public port."""
    from infra.runtime.metrics import serve_metrics

    serve_metrics(_settings.metrics_port)


def post_worker_init(worker) -> None:
    from infra.runtime.process_metrics import start_in_worker

    start_in_worker()  # process_* metrics summed over the workers (infra/runtime/process_metrics.py)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if _own_metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
