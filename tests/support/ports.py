"""Ports for the processes a test starts, without the race of "pick a free port, let a child bind it later".

Other test runs share this machine: a port found free may be taken before the child binds it. So
either the test binds the port itself and keeps it (a listening socket handed to gunicorn as
``fd://N``, or a bound socket that refuses every connection), or, for children that only take a
number (Tansu, Prometheus, the consumers' /metrics), the test starts them again on fresh ports when
their output says they lost that race.
"""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

# How each child says its port was taken: Python and Prometheus, Tansu, gunicorn, the stack's own check.
_LOST_A_PORT = re.compile(r"(?i)address already in use|address in use|connection in use|is already in use")
ATTEMPTS = 3


def lost_a_port_race(output: str) -> bool:
    return bool(_LOST_A_PORT.search(output))


class PortTaken(RuntimeError):
    """A child could not bind the port it was given: start again on fresh ports."""


def retry_on_port_collision(start: Callable[[int], T], attempts: int = ATTEMPTS) -> T:
    """``start(attempt)``, again (attempt 2, 3, ...) while it raises :class:`PortTaken`."""
    for attempt in range(1, attempts):
        try:
            return start(attempt)
        except PortTaken:
            continue
    return start(attempts)


def listening_socket(host: str = "127.0.0.1") -> socket.socket:
    """A socket listening on a port the OS chose, inheritable by a child (gunicorn ``--bind fd://N``)."""
    sock = socket.socket()
    sock.bind((host, 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@contextlib.contextmanager
def refusing_port(host: str = "127.0.0.1") -> Iterator[int]:
    """A port that refuses every connection while the context lasts: bound here, never listening."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        yield sock.getsockname()[1]
