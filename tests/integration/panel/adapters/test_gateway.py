"""The panel's client of the gateway API reuses connections; the API (gunicorn, 2 s keep-alive) may
close one just as the panel sends on it. A read (GET) is then sent again on a fresh connection
instead of answering the browser 502; a write is never sent twice. A real socket server that drops
the second request of every connection unanswered, as a server closing an idle connection does."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from panel.adapters.gateway import GatewayClient
from panel.domain.credential import Credential
from panel.use_cases.ports import GatewayUnavailable


class DroppingServer:
    """Answers the first request of each connection (keep-alive), closes it on the second."""

    def __init__(self):
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.requests: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(connection,), daemon=True).start()

    def _connection(self, connection: socket.socket):
        with connection:
            for number in (1, 2):
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                self.requests.append(data.split(b" ", 2)[0].decode() + f" #{number}")
                if number == 2:
                    return  # closed without an answer: what a keep-alive timeout looks like to the client
                body = json.dumps({"type": "merchant", "account_id": "acct_1", "name": "Shop"}).encode()
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )

    def close(self):
        self._sock.close()


@pytest.fixture
def server():
    running = DroppingServer()
    yield running
    running.close()


CREDENTIAL = Credential.merchant("acct_1", "s" * 32)


def test_a_read_on_a_connection_the_api_just_closed_is_sent_again_on_a_new_one(server):
    client = GatewayClient(server.url, timeout=5)
    credential = CREDENTIAL
    assert client.me(credential).account_id == "acct_1"
    assert client.me(credential).account_id == "acct_1"  # the reused connection was dropped: sent again
    assert server.requests == ["GET #1", "GET #2", "GET #1"]


def test_a_write_on_a_dropped_connection_is_not_sent_twice(server):
    client = GatewayClient(server.url, timeout=5)
    credential = CREDENTIAL
    client.me(credential)
    with pytest.raises(GatewayUnavailable):
        client.send_json(credential, "POST", "/v1/refunds", {"transaction": "tx_1"})
    assert server.requests == ["GET #1", "POST #2"]
