"""A constant-rate (open-loop) load generator for `make bench-api`.

wrk keeps N connections busy: when the server slows down it sends less, and its latencies leave out
the requests it did not send meanwhile (coordinated omission). Here request i is due at
``start + i / rate`` whatever happened before; it waits for a free keep-alive connection if all are
busy, and its latency is counted from the moment it was due. Debian has no wrk2 (the usual tool for
this), so this is a small asyncio client: one process, pre-built request bytes, minimal HTTP/1.1
parsing. Its own CPU use is measured and printed.

A sample of the accepted transactions is also followed through ``GET /v1/transactions/{id}`` every
``poll_interval`` seconds until it is decided: accept -> decided as a merchant sees it (the figure
is late by up to one poll interval plus the time a GET itself takes).
"""

from __future__ import annotations

import asyncio
import json
import resource
import threading
import time
from dataclasses import dataclass, field


@dataclass
class OpenLoopResult:
    offered_rate: float
    seconds: float
    sent: int = 0
    accepted: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    decided_after: list[float] = field(default_factory=list)
    # Each followed transaction once decided: (id, status, wall-clock time of its 202), for a caller that
    # looks up when the gateway recorded the decision (benchmarks/soak.py), apart from when a GET saw it.
    decided: list[tuple[str, str, float]] = field(default_factory=list)
    undecided: int = 0
    cpu_seconds: float = 0.0
    overloaded: bool = False  # the backlog passed MAX_BACKLOG_SECONDS: the rest was not sent
    elapsed: float = 0.0  # from the first scheduled request to the last answer

    @property
    def accepted_rate(self) -> float:
        return self.accepted / self.elapsed if self.elapsed else 0.0


class _Connection:
    def __init__(self, host: str, port: int):
        self._address = (host, port)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(*self._address)
        try:
            self._writer.write(request)
            head = await self._reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = _content_length(head)
            body = await self._reader.readexactly(length) if length else b""
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            self.close()
            raise ConnectionError("connection dropped") from None
        if b"connection: close" in head.lower():
            self.close()
        return status, body

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def _content_length(head: bytes) -> int:
    index = head.lower().find(b"content-length:")
    if index < 0:
        return 0
    return int(head[index + 15 : head.index(b"\r\n", index)])


def http_request(method: str, host: str, port: int, path: str, headers: dict, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


MAX_BACKLOG_SECONDS = 5.0


class OpenLoop:
    def __init__(
        self,
        host: str,
        port: int,
        post: bytes,
        get_headers: dict,
        connections: int = 128,
        sample_every: int = 20,
        poll_interval: float = 0.005,
        decided_timeout: float = 10.0,
    ):
        self._host, self._port = host, port
        self._post = post
        self._get_headers = get_headers
        self._connections = connections
        self._sample_every = sample_every
        self._poll_interval = poll_interval
        self._decided_timeout = decided_timeout

    def run(self, rate: float, seconds: float) -> OpenLoopResult:
        result = OpenLoopResult(rate, seconds)
        started, cpu = time.perf_counter(), _cpu()
        # A loop of its own in a thread of its own: the caller may already run one (Playwright's does).
        runner = threading.Thread(target=lambda: asyncio.run(self._run(rate, seconds, result)), name="open-loop")
        runner.start()
        runner.join()
        result.elapsed, result.cpu_seconds = time.perf_counter() - started, _cpu() - cpu
        return result

    async def _run(self, rate: float, seconds: float, result: OpenLoopResult) -> None:
        due: asyncio.Queue[float | None] = asyncio.Queue()
        followers: set[asyncio.Task] = set()
        getters: asyncio.Queue[_Connection] = asyncio.Queue()
        for _ in range(16):
            getters.put_nowait(_Connection(self._host, self._port))
        senders = [asyncio.create_task(self._send(due, result, followers, getters)) for _ in range(self._connections)]
        await self._schedule(due, rate, seconds, result)
        for _ in senders:
            due.put_nowait(None)
        await asyncio.gather(*senders)
        if followers:
            await asyncio.gather(*followers)
        while not getters.empty():
            getters.get_nowait().close()

    @staticmethod
    async def _schedule(due: asyncio.Queue, rate: float, seconds: float, result: OpenLoopResult) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.05
        total = int(rate * seconds)
        sent = 0
        while sent < total:
            now = loop.time()
            ready = min(int((now - start) * rate) + 1, total)
            for index in range(sent, ready):
                due.put_nowait(start + index / rate)
            sent = max(sent, ready)
            if due.qsize() > rate * MAX_BACKLOG_SECONDS:  # far beyond capacity: stop, say so
                result.overloaded = True
                break
            await asyncio.sleep(max(start + sent / rate - loop.time(), 0))
        result.sent = sent

    async def _send(self, due: asyncio.Queue, result: OpenLoopResult, followers: set, getters: asyncio.Queue) -> None:
        loop = asyncio.get_running_loop()
        connection = _Connection(self._host, self._port)
        while (scheduled := await due.get()) is not None:
            try:
                status, body = await connection.exchange(self._post)
            except ConnectionError:
                result.failed += 1
                continue
            answered = loop.time()
            if status != 202:
                result.failed += 1
                continue
            result.accepted += 1
            result.latencies.append(answered - scheduled)
            if result.accepted % self._sample_every == 0:
                followers.add(asyncio.create_task(self._follow(json.loads(body)["id"], answered, result, getters)))
        connection.close()

    async def _follow(
        self, transaction_id: str, accepted: float, result: OpenLoopResult, getters: asyncio.Queue
    ) -> None:
        loop = asyncio.get_running_loop()
        accepted_at = time.time() - (loop.time() - accepted)
        request = http_request("GET", self._host, self._port, f"/v1/transactions/{transaction_id}", self._get_headers)
        while loop.time() - accepted < self._decided_timeout:
            await asyncio.sleep(self._poll_interval)
            connection = await getters.get()
            try:
                status, body = await connection.exchange(request)
            except ConnectionError:
                continue
            finally:
                getters.put_nowait(connection)
            if status == 200 and (decision := json.loads(body)["status"]) != "pending":
                result.decided_after.append(loop.time() - accepted)
                result.decided.append((transaction_id, decision, accepted_at))
                return
        result.undecided += 1


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]
