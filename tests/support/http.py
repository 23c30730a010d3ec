"""A WSGI app on a real port (werkzeug's threaded server), for tests that need real HTTP between processes' parts."""

from __future__ import annotations

import contextlib
import socket
import threading

import requests
from werkzeug.serving import make_server


@contextlib.contextmanager
def serving(app):
    """Yield the app's base URL while it serves on a free port; stop it afterwards."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(5)


def hang_up(response: requests.Response) -> None:
    """Close a streamed response at once, even while another thread is blocked reading it.

    ``close()`` alone waits for that read to return (the server's next heartbeat, or the read timeout:
    ~30 s a stream); shutting the socket down first ends the read with the end of the stream."""
    # urllib3's response over http.client's, whose buffered reader wraps a SocketIO over the socket
    # (the connection itself may have let go of the socket already: a response read to its close).
    buffered = getattr(getattr(response.raw, "_fp", None), "fp", None)
    sock = getattr(getattr(buffered, "raw", None), "_sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    response.close()
