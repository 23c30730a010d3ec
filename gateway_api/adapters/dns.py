"""Host name resolution for the webhook URL checks (the operating system's resolver), with a deadline.

``getaddrinfo`` has no timeout of its own: a name server that never answers would hold the request
thread (endpoint creation) or a dispatcher thread for as long as the system resolver insists. Here
lookups run on a small pool and the caller waits at most ``timeout_s``; a lookup that overruns keeps
its pool thread until the system gives up, so at most ``workers`` can hang at once.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as LookupTimeout

from gateway_api.use_cases.ports import HostResolver

DNS_TIMEOUT_SECONDS = 2.0
DNS_WORKERS = 8

Lookup = Callable[[str, int], list]


def _getaddrinfo(host: str, port: int) -> list:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


class SystemResolver(HostResolver):
    def __init__(self, timeout_s: float = DNS_TIMEOUT_SECONDS, lookup: Lookup = _getaddrinfo):
        self._timeout_s = timeout_s
        self._lookup = lookup
        self._pool = ThreadPoolExecutor(DNS_WORKERS, thread_name_prefix="dns")  # threads start on first use

    def resolve(self, host: str, port: int) -> list[str]:
        try:
            infos = self._pool.submit(self._lookup, host, port).result(timeout=self._timeout_s)
        except LookupTimeout:
            raise LookupError(f"{host} did not resolve within {self._timeout_s:g} s") from None
        except (socket.gaierror, UnicodeError, OSError) as exc:
            raise LookupError(f"{host} does not resolve") from exc
        return list(dict.fromkeys(info[4][0] for info in infos))
