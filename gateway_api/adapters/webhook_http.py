"""POSTing webhooks: only to addresses the rules allow, within a hard deadline, never following redirects.

* The host is resolved here and every address checked (``address_allowed``); the connection then goes
  to one of those checked addresses, while TLS still verifies the certificate against the host name
  (SNI). A name that re-resolves to 10.0.0.5 after the endpoint was created (DNS rebinding) is refused.
* The whole attempt (connect, send, headers, 1 KiB of body) must finish by its deadline: a watchdog
  shuts the socket of an attempt that runs over, so a receiver dripping a byte every few seconds
  cannot hold a dispatcher thread.
* At most 1 KiB of the answer is kept (card-like digits masked); a larger body is drained up to
  64 KiB to keep the connection, else the connection is dropped.
* Connections are kept alive per thread and per (scheme, host, port): at a thousand events a second
  to one receiver, a TLS handshake per event would be the bottleneck.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time

from infra.runtime.redaction import mask_card_numbers

from gateway_api.domain.deliveries import (
    MAX_RESPONSE_BODY_BYTES,
    OUTCOME_CONNECTION_ERROR,
    OUTCOME_REFUSED_ADDRESS,
    OUTCOME_TIMEOUT,
    AttemptResult,
    clipped_body,
    clipped_error,
    outcome_of_status,
)
from gateway_api.domain.errors import InvalidParameter
from gateway_api.domain.webhook_endpoints import STANDARD_PORTS, UrlParts, parse_url, refused_addresses
from gateway_api.use_cases.ports import HostResolver, WebhookSender

DRAIN_LIMIT = 64 * 1024
CONNECT_TIMEOUT_S = 5.0
DNS_CACHE_SECONDS = 30.0


class _Refused(Exception):
    pass


class HttpWebhookSender(WebhookSender):
    def __init__(
        self,
        resolver: HostResolver,
        allow_private: bool,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        allowed_ports: tuple[int, ...] = STANDARD_PORTS,
    ):
        self._resolver = resolver
        self._allow_private = allow_private
        self._allowed_ports = allowed_ports
        self._ssl = ssl_context or ssl.create_default_context()
        self._connect_timeout_s = connect_timeout_s
        self._local = threading.local()
        self._open: set[http.client.HTTPConnection] = set()  # every thread's, to close them on shutdown
        self._open_lock = threading.Lock()
        self._dns: dict[tuple[str, int], tuple[float, list[str]]] = {}
        self._dns_lock = threading.Lock()
        self._watchdog = _Watchdog()

    def send(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> AttemptResult:
        started = time.perf_counter()
        try:
            parts = parse_url(url, self._allow_private, self._allowed_ports)
            addresses = self._checked_addresses(parts)
        except (InvalidParameter, _Refused) as exc:
            return AttemptResult(OUTCOME_REFUSED_ADDRESS, 0.0, error=clipped_error(str(exc)))
        except LookupError as exc:
            return AttemptResult(OUTCOME_CONNECTION_ERROR, time.perf_counter() - started, error=clipped_error(str(exc)))
        return self._post(parts, addresses, body, headers, timeout_s, started)

    def close(self) -> None:
        self._watchdog.stop()
        with self._open_lock:
            connections, self._open = self._open, set()
        for connection in connections:
            connection.close()

    def _checked_addresses(self, parts: UrlParts) -> list[str]:
        key = (parts.host, parts.port)
        with self._dns_lock:
            cached = self._dns.get(key)
        if cached is None or cached[0] < time.monotonic():
            cached = (time.monotonic() + DNS_CACHE_SECONDS, self._resolver.resolve(parts.host, parts.port))
            with self._dns_lock:
                self._dns[key] = cached
        addresses = cached[1]
        if not addresses or refused_addresses(addresses, self._allow_private):
            raise _Refused(f"{parts.host} resolves to an address that is not public; not sent")
        return addresses

    def _post(
        self,
        parts: UrlParts,
        addresses: list[str],
        body: bytes,
        headers: dict[str, str],
        timeout_s: float,
        started: float,
    ) -> AttemptResult:
        deadline = time.monotonic() + timeout_s
        # A kept-alive connection the receiver has closed meanwhile fails at once: retry that once.
        tries = 2 if (parts.scheme, parts.host, parts.port) in self._connections() else 1
        while True:
            tries -= 1
            connection = self._connection(parts, addresses)
            watch = self._watchdog.watch(connection, deadline)
            try:
                status, answer = _exchange(connection, parts, body, headers, deadline)
                return AttemptResult(
                    outcome_of_status(status),
                    time.perf_counter() - started,
                    status,
                    _http_error(status),
                    mask_card_numbers(answer) or None,
                )
            except (OSError, http.client.HTTPException) as exc:
                self._drop(parts)
                if self._watchdog.fired(watch) or time.monotonic() >= deadline or isinstance(exc, TimeoutError):
                    return AttemptResult(
                        OUTCOME_TIMEOUT,
                        time.perf_counter() - started,
                        error=f"no complete answer within {timeout_s:g} s",
                    )
                if tries == 0 or not _stale_connection(exc):
                    return AttemptResult(
                        OUTCOME_CONNECTION_ERROR, time.perf_counter() - started, error=clipped_error(_describe(exc))
                    )
            finally:
                self._watchdog.release(watch)

    def _connections(self) -> dict:
        if not hasattr(self._local, "connections"):
            self._local.connections = {}
        return self._local.connections

    def _connection(self, parts: UrlParts, addresses: list[str]) -> http.client.HTTPConnection:
        key = (parts.scheme, parts.host, parts.port)
        connection = self._connections().get(key)
        if connection is None:
            connection = _PinnedConnection.create(parts, addresses, self._connect_timeout_s, self._ssl)
            self._connections()[key] = connection
            with self._open_lock:
                self._open.add(connection)
        return connection

    def _drop(self, parts: UrlParts) -> None:
        connection = self._connections().pop((parts.scheme, parts.host, parts.port), None)
        if connection is not None:
            connection.close()
            with self._open_lock:
                self._open.discard(connection)


def _exchange(connection, parts: UrlParts, body: bytes, headers: dict[str, str], deadline: float) -> tuple[int, str]:
    connection.timeout = max(deadline - time.monotonic(), 0.001)
    if connection.sock is not None:
        connection.sock.settimeout(connection.timeout)
    connection.request("POST", parts.target, body=body, headers=headers)
    response = connection.getresponse()
    # The status decides the attempt; the body is only kept for the log. One that never ends (no
    # length, connection left open) costs the rest of the deadline and the connection, not the attempt.
    try:
        kept = response.read(MAX_RESPONSE_BODY_BYTES)
        response.read(DRAIN_LIMIT)
    except (OSError, http.client.HTTPException):
        kept = b""
    if not response.isclosed():
        connection.close()  # more than we are willing to read, or unreadable: do not reuse it
    return response.status, clipped_body(kept)


class _PinnedConnection:
    """http.client connections that connect to checked addresses only, whatever DNS says later."""

    @staticmethod
    def create(parts: UrlParts, addresses: list[str], connect_timeout_s: float, context: ssl.SSLContext):
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(parts.host, parts.port, timeout=connect_timeout_s, context=context)
        else:
            connection = http.client.HTTPConnection(parts.host, parts.port, timeout=connect_timeout_s)

        def connect_to_checked(address, timeout, source_address=None):
            error: OSError | None = None
            for ip in addresses:
                try:
                    return socket.create_connection((ip, address[1]), min(timeout, connect_timeout_s), source_address)
                except OSError as exc:
                    error = exc
            raise error or OSError("no address to connect to")

        # HTTPSConnection.connect() calls this, then wraps the socket with server_hostname=host.
        connection._create_connection = connect_to_checked
        return connection


class _Watchdog:
    """Shuts down the sockets of attempts that run past their deadline (one thread for all)."""

    def __init__(self, tick_s: float = 0.2):
        self._tick_s = tick_s
        self._active: dict[int, tuple[float, http.client.HTTPConnection]] = {}
        self._fired: set[int] = set()
        self._lock = threading.Lock()
        self._next = 0
        self._stopped = threading.Event()
        threading.Thread(target=self._run, name="webhook-deadlines", daemon=True).start()

    def watch(self, connection, deadline: float) -> int:
        with self._lock:
            self._next += 1
            self._active[self._next] = (deadline, connection)
            return self._next

    def release(self, key: int) -> None:
        with self._lock:
            self._active.pop(key, None)
            self._fired.discard(key)

    def fired(self, key: int) -> bool:
        with self._lock:
            return key in self._fired

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(self._tick_s):
            now = time.monotonic()
            with self._lock:
                late = [(key, connection) for key, (deadline, connection) in self._active.items() if deadline <= now]
                for key, _ in late:
                    self._active.pop(key)
                    self._fired.add(key)
            for _, connection in late:
                _shutdown(connection)


def _shutdown(connection) -> None:
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _http_error(status: int) -> str | None:
    if 300 <= status < 400:
        return "redirects are not followed: point the endpoint at the final URL"
    return None


def _stale_connection(exc: Exception) -> bool:
    return isinstance(exc, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError))


def _describe(exc: Exception) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or exc.__class__.__name__}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
