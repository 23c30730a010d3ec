"""gunicorn settings for the panel: ``gunicorn -c python:panel.gunicorn_conf 'panel:create_app()'``.

gthread workers, because every open SSE stream holds a thread while it waits for events. Streams
never finish by themselves: on SIGTERM/SIGINT each worker closes its streams (browsers reconnect to
another worker or replica) and stops its results reader, then exits once gunicorn has let its idle
keep-alive connections linger (2 s at most, gunicorn's own). The graceful timeout is only the
backstop for a request that hangs; it is the API's, so a starved machine does not SIGKILL a
worker that is about to exit (CI measured 5.4 s under load against the former 5).
"""

import os
import signal
import tempfile

from infra.runtime.logs import gunicorn_logger_class
from infra.runtime.settings import EnvReader, from_env_or_exit

from panel.settings import Settings

# Checked in the master, before any worker: a missing or weak PANEL_SECRET_KEY stops gunicorn with
# one line naming it (exit code 2) instead of workers failing to boot one after another.
_settings = from_env_or_exit(Settings)
_env = EnvReader()

# Before any worker imports prometheus_client, so every worker writes to the shared directory.
if not _env.text("PROMETHEUS_MULTIPROC_DIR", ""):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="panel-metrics-")

worker_class = "gthread"
workers = _env.integer("WEB_CONCURRENCY", 2, minimum=1)
threads = 64  # up to ~60 concurrent live viewers per worker
timeout = 30
graceful_timeout = 10
keepalive = 5
logger_class = gunicorn_logger_class("panel")  # gunicorn's own lines as JSON too
# gunicorn 23+ opens a control socket at one fixed path (~/.gunicorn/gunicorn.ctl) that every
# instance on the host shares, and stopping it added up to 4 s to a shutdown; nothing here uses it.
control_socket_disable = True


def post_worker_init(worker):
    """Close the live streams as soon as the worker is asked to stop, then let gunicorn stop it; and
    export this worker's CPU and memory into the summed process_* metrics (infra/runtime/process_metrics.py)."""
    from infra.runtime.process_metrics import start_in_worker

    start_in_worker()
    panel = getattr(worker.wsgi, "extensions", {}).get("panel")
    if panel is None:
        return
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        previous = signal.getsignal(signum)

        def handler(number, frame, previous=previous):
            panel.shutdown_async()
            if callable(previous):
                previous(number, frame)

        signal.signal(signum, handler)


def when_ready(_server):
    """/metrics on METRICS_PORT (default 9104), served by the master: off the public port."""
    from infra.runtime.metrics import serve_metrics

    serve_metrics(_settings.metrics_port)


def child_exit(_server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
