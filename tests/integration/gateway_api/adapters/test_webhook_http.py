"""The webhook HTTP client against real receivers: answers, timeouts, redirects, TLS, address rules."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway_api.adapters.dns import SystemResolver
from gateway_api.adapters.webhook_http import HttpWebhookSender
from gateway_api.use_cases.ports import HostResolver
from tests.support.receiver import Answer, Receiver

BODY = b'{"id":"evt_1","type":"transaction.approved"}'
HEADERS = {"Content-Type": "application/json", "Gateway-Event-Id": "evt_1"}


class FixedResolver(HostResolver):
    """Resolves every name to the given addresses (what a DNS server under an attacker's control does)."""

    def __init__(self, *addresses: str):
        self.addresses = list(addresses)

    def resolve(self, host, port):
        return list(self.addresses)


@pytest.fixture
def sender():
    sender = HttpWebhookSender(SystemResolver(), allow_private=True)
    yield sender
    sender.close()


def test_a_2xx_is_delivered_with_the_exact_body_and_headers(sender):
    with Receiver(lambda n, r: Answer(204, body=b"")) as receiver:
        result = sender.send(receiver.url + "?source=gateway", BODY, HEADERS, timeout_s=5)
    assert (result.outcome, result.http_status, result.error) == ("delivered", 204, None)
    (request,) = receiver.requests
    assert (request.path, request.body, request.headers["Gateway-Event-Id"]) == (
        "/webhooks?source=gateway",
        BODY,
        "evt_1",
    )


def test_an_error_answer_keeps_at_most_1_kib_of_the_body_with_card_numbers_masked(sender):
    answer = b"card 4111111111111111 refused " + b"x" * 5000
    with Receiver(lambda n, r: Answer(500, body=answer)) as receiver:
        result = sender.send(receiver.url, BODY, HEADERS, timeout_s=5)
        again = sender.send(receiver.url, BODY, HEADERS, timeout_s=5)  # the connection stayed usable
    assert (result.outcome, result.http_status) == ("http_error", 500)
    assert len(result.response_body.encode()) <= 1024
    assert result.response_body.startswith("card ************1111 refused xxx")
    assert again.http_status == 500 and len(receiver.requests) == 2


def test_redirects_are_not_followed(sender):
    to_metadata = {"Location": "http://169.254.169.254/latest/meta-data"}
    with Receiver(lambda n, r: Answer(302, headers=to_metadata)) as receiver:
        result = sender.send(receiver.url, BODY, HEADERS, timeout_s=5)
    assert (result.outcome, result.http_status) == ("http_error", 302)
    assert "redirects are not followed" in result.error
    assert len(receiver.requests) == 1


def test_a_receiver_that_answers_too_late_is_a_timeout(sender):
    with Receiver(lambda n, r: Answer(200, delay_s=3)) as receiver:
        started = time.monotonic()
        result = sender.send(receiver.url, BODY, HEADERS, timeout_s=1)
    assert result.outcome == "timeout" and result.http_status is None
    assert time.monotonic() - started < 2


def test_a_receiver_dripping_its_answer_cannot_hold_the_sender_past_the_deadline(sender):
    """Each byte comes before the socket timeout would fire: only the hard deadline ends it."""
    server = _dripping_server(byte_every_s=0.3)
    try:
        started = time.monotonic()
        result = sender.send(f"http://127.0.0.1:{server.server_port}/", BODY, HEADERS, timeout_s=1.5)
        elapsed = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    assert result.outcome == "timeout"
    assert elapsed < 2.5, f"the attempt took {elapsed:.1f}s"


def test_a_2xx_whose_body_never_ends_is_delivered_by_its_status(sender):
    server = _raw_server(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nstill writing", hold_s=5)
    try:
        result = sender.send(f"http://127.0.0.1:{server.server_port}/", BODY, HEADERS, timeout_s=1)
    finally:
        server.shutdown()
        server.server_close()
    assert (result.outcome, result.http_status) == ("delivered", 200)


def test_a_closed_port_is_a_connection_error(sender):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = sender.send(f"http://127.0.0.1:{port}/", BODY, HEADERS, timeout_s=2)
    assert (result.outcome, result.error) == ("connection_error", "connection refused")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/webhooks",
        "https://127.0.0.1:{port}/webhooks",
        "http://localhost:{port}/webhooks",
        "http://[::ffff:127.0.0.1]:{port}/",
    ],
)
def test_private_addresses_and_plain_http_are_refused_without_the_flag(url):
    strict = HttpWebhookSender(SystemResolver(), allow_private=False)
    with Receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        result = strict.send(url.format(port=port), BODY, HEADERS, timeout_s=2)
    strict.close()
    assert result.outcome == "refused_address"
    assert receiver.requests == []


def test_a_name_that_now_resolves_to_a_private_address_is_refused_at_delivery_time():
    """DNS rebinding: the endpoint was created when its name resolved to a public address."""
    strict = HttpWebhookSender(FixedResolver("93.184.216.34", "10.0.0.5"), allow_private=False)
    result = strict.send("https://shop.example.com/webhooks", BODY, HEADERS, timeout_s=2)
    strict.close()
    assert result.outcome == "refused_address" and "not public" in result.error


def test_the_connection_goes_to_the_checked_address_not_to_a_new_lookup():
    """The sender connects to the address it checked; the Host header still names the host."""
    with Receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        pinned = HttpWebhookSender(FixedResolver("127.0.0.1"), allow_private=True)
        result = pinned.send(f"http://webhooks.invalid:{port}/hook", BODY, HEADERS, timeout_s=2)
        pinned.close()
    assert result.outcome == "delivered"
    assert receiver.requests[0].headers["Host"] == f"webhooks.invalid:{port}"


def test_tls_is_verified_against_the_host_name_while_connecting_to_the_checked_address(tmp_path):
    context, server = _tls_receiver(tmp_path, "hooks.shop.test")
    try:
        url = f"https://hooks.shop.test:{server.server_port}/"
        trusted = HttpWebhookSender(FixedResolver("127.0.0.1"), allow_private=True, ssl_context=context)
        assert trusted.send(url, BODY, HEADERS, timeout_s=3).outcome == "delivered"
        wrong_name = trusted.send(f"https://other.shop.test:{server.server_port}/", BODY, HEADERS, timeout_s=3)
        untrusted = HttpWebhookSender(FixedResolver("127.0.0.1"), allow_private=True)
        unknown_ca = untrusted.send(url, BODY, HEADERS, timeout_s=3)
        trusted.close()
        untrusted.close()
    finally:
        server.shutdown()
        server.server_close()
    assert wrong_name.outcome == "connection_error" and wrong_name.error.startswith("TLS")
    assert unknown_ca.outcome == "connection_error" and "CERTIFICATE_VERIFY_FAILED" in unknown_ca.error


def _dripping_server(byte_every_s: float) -> ThreadingHTTPServer:
    class Drip(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(byte_every_s)

        def log_message(self, *args):
            pass

    return _serve(Drip)


def _raw_server(answer: bytes, hold_s: float) -> ThreadingHTTPServer:
    """Writes ``answer`` as it is, then keeps the connection open for ``hold_s``."""

    class Raw(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.wfile.write(answer)
            self.wfile.flush()
            time.sleep(hold_s)

        def log_message(self, *args):
            pass

    return _serve(Raw)


def _serve(handler) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _tls_receiver(tmp_path, name: str) -> tuple[ssl.SSLContext, ThreadingHTTPServer]:
    """A receiver with a certificate for ``name`` from a throwaway CA; the client context trusts that CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    receiver = Receiver()
    server = receiver._server
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_path, key_path)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    receiver.start()
    client_context = ssl.create_default_context(cafile=str(cert_path))
    return client_context, server
