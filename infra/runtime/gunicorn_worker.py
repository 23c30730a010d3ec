"""gunicorn's gthread worker without the main loop's round trip between two requests of one connection.

Stock gthread (gunicorn 27) passes every keep-alive request through its main thread: the request
thread's future calls back through a pipe, the main thread wakes, puts the socket back in its
poller, wakes again when the next request arrives and submits the connection to the thread pool,
whose thread wakes to serve it. Here the thread that answered a keep-alive request waits up to
``KEEP_SERVING_SECONDS`` on that socket for the next request and serves it itself. When none comes,
when another connection is waiting for a thread, or after ``KEEP_SERVING_REQUESTS`` in a row, the
connection goes back to the poller as in stock gthread. Measured in docs/benchmarks-api.md: the
API's CPU per request 6-8% lower under wrk at 16 and 64 connections, a bare echo's ~40% lower on
one connection.

What stock gthread guarantees still holds: an idle connection holds a thread for at most
``KEEP_SERVING_SECONDS`` (then it waits in the poller, holding none); a connection waiting for a
thread is never kept waiting by one that lingers (no lingering while the pool has queued work, and
a busy connection takes its turn behind the others every ``KEEP_SERVING_REQUESTS``); a stopping
worker lingers no more.

    gunicorn -k infra.runtime.gunicorn_worker.KeepServingThreadWorker ...
"""

from __future__ import annotations

import select
import threading

from gunicorn.workers.gthread import ThreadWorker

KEEP_SERVING_SECONDS = 0.005
KEEP_SERVING_REQUESTS = 100


class KeepServingThreadWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._queued = 0  # connections submitted to the pool that no thread has picked up yet
        self._queued_lock = threading.Lock()

    def enqueue_req(self, conn):
        with self._queued_lock:
            self._queued += 1
        super().enqueue_req(conn)

    def handle(self, conn):
        with self._queued_lock:
            self._queued -= 1
        served = 0
        while True:
            keep_alive = super().handle(conn)
            served += 1
            if keep_alive is not True or not self._next_request_soon(conn, served):
                return keep_alive  # to the main loop, which keeps the connection in its poller or closes it

    def _next_request_soon(self, conn, served: int) -> bool:
        if not self.alive or served >= KEEP_SERVING_REQUESTS or self._queued:
            return False
        if conn.parser.unreader.buf.getvalue():
            return True  # read ahead with the last request's body: the next one is here already
        poller = select.poll()
        poller.register(conn.sock, select.POLLIN)
        return bool(poller.poll(KEEP_SERVING_SECONDS * 1000))
