"""Host name resolution for the webhook URL checks (the operating system's resolver)."""
from __future__ import annotations

import socket

from gateway_api.use_cases.ports import HostResolver


class SystemResolver(HostResolver):
    def resolve(self, host: str, port: int) -> list[str]:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, OSError) as exc:
            raise LookupError(f"{host} does not resolve") from exc
        return list(dict.fromkeys(info[4][0] for info in infos))
