"""A real HTTP receiver for webhook tests: a threaded http.server on 127.0.0.1 that keeps every
request it gets and answers as the test tells it to (status, delay, body)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when the whole request was read

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    delay_s: float = 0.0
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # http.server's 5 drops connections when a dispatcher opens 32 at once


class Receiver:
    """``answers`` decides each answer from the request's number (0-based) and the request."""

    def __init__(self, answers: Callable[[int, Received], Answer] | None = None):
        self.answers = answers or (lambda _number, _request: Answer())
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="test-receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/webhooks"

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "Receiver":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def event_ids(self) -> list[str]:
        with self._lock:
            return [request.headers.get("Gateway-Event-Id", "") for request in self.requests]

    def _record(self, request: Received) -> int:
        with self._lock:
            self.requests.append(request)
            return len(self.requests) - 1

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
            # Like any production server: without TCP_NODELAY the body waits for the client's
            # delayed ACK (~40 ms) behind the headers, which would measure http.server, not us.
            disable_nagle_algorithm = True

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = Received(self.path, dict(self.headers.items()), body, time.time())
                answer = receiver.answers(receiver._record(request), request)
                if answer.delay_s:
                    time.sleep(answer.delay_s)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *args):
                pass

        return Handler
