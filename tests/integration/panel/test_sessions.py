"""Panel sessions end when the gateway API says so: a real API, real panels, real HTTP and the broker.

The panels here re-ask the API every second (PANEL_CREDENTIAL_CHECK_SECONDS=1; 60 by default).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import urllib.parse

import pytest
import requests

from infra.kernel.contracts import TransactionResult
from infra.runtime.kafka import Record, build_acked_producer
from infra.runtime.settings import Secret

from panel.bootstrap import create_app as create_panel
from panel.settings import Settings as PanelSettings
from tests.integration.gateway_api.support import ADMIN
from tests.integration.panel.conftest import CHECK_SECONDS, PANEL_KEY, as_merchant, as_operator, csrf_token, sign_in
from tests.support import wait_until


class Stream:
    """GET /stream read line by line in a thread, as a browser's EventSource would.

    Plain http.client, so that close() can shut the socket under the reading thread at once."""

    def __init__(self, panel_url: str, browser: requests.Session, headers: dict | None = None):
        address = urllib.parse.urlsplit(panel_url)
        self._connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        cookies = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
        self._connection.request("GET", "/stream", headers={"Cookie": cookies, **(headers or {})})
        self.response = self._connection.getresponse()
        self.status = self.response.status
        self.lines: list[str] = []
        self.ended = threading.Event()
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            while line := self.response.readline():
                self.lines.append(line.decode().rstrip("\r\n"))
        except (OSError, http.client.HTTPException, ValueError):
            pass
        self.ended.set()

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def close(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            self._connection.sock.shutdown(socket.SHUT_RDWR)
        self._connection.close()


def publish_result(kafka_settings, account_id: str, transaction_id: str) -> None:
    result = TransactionResult(
        transaction_id, "approved", "", account_id, "10.00", "visa", "1111", None, "2026-11-23T10:00:01.000000Z"
    )
    build_acked_producer(kafka_settings, "test").send([Record(kafka_settings.topics.results, result.to_json())], 10)


@pytest.mark.parametrize("change", ["rotate the secret", "disable the account"])
def test_a_stream_ends_once_the_merchants_credential_changes(api, start_panel, merchant, kafka_settings, change):
    panel_url = start_panel()
    browser, _ = sign_in(panel_url, as_merchant(merchant))
    stream = Stream(panel_url, browser)
    try:
        wait_until(lambda: stream.said("event: hello"), 10, message="hello")
        publish_result(kafka_settings, merchant[0], "before-change")
        wait_until(lambda: stream.said('"before-change"'), 10, message="the merchant's result, live")

        client = api[1]
        if change == "rotate the secret":
            assert client.post(f"/v1/accounts/{merchant[0]}/secret", headers=ADMIN).status_code == 200
        else:
            assert client.delete(f"/v1/accounts/{merchant[0]}", headers=ADMIN).status_code == 200
        assert stream.ended.wait(CHECK_SECONDS + 5), "the stream outlived the credential"
        assert stream.lines[-3:] == ["event: signed_out", "data: {}", ""]
        publish_result(kafka_settings, merchant[0], "after-change")
        assert not stream.said('"after-change"')
        assert browser.get(panel_url + "/stream", timeout=10).status_code == 401
    finally:
        stream.close()


def test_a_cookie_saved_before_sign_out_no_longer_works_on_any_panel(start_panel, merchant):
    first, second = start_panel(), start_panel()  # two processes (workers, replicas) sharing the key
    browser, _ = sign_in(first, as_merchant(merchant))
    saved = dict(browser.cookies)
    assert requests.get(second + "/api/transactions", cookies=saved, timeout=10).status_code == 200

    signed_out = browser.post(
        first + "/logout", data={"csrf_token": csrf_token(browser, first)}, allow_redirects=False, timeout=10
    )
    assert signed_out.status_code == 302

    for panel_url in (first, second):
        assert requests.get(panel_url + "/api/transactions", cookies=saved, timeout=10).status_code == 401
        assert requests.get(panel_url + "/stream", cookies=saved, timeout=10).status_code == 401
        page = requests.get(panel_url + "/", cookies=saved, allow_redirects=False, timeout=10)
        assert page.status_code == 302 and page.headers["Location"].startswith("/login")


def test_an_operator_stream_ends_at_sign_out_elsewhere(start_panel):
    panel_url = start_panel()
    browser, _ = sign_in(panel_url, as_operator())
    stream = Stream(panel_url, browser)
    try:
        wait_until(lambda: stream.said("event: hello"), 10, message="hello")
        token = csrf_token(browser, panel_url)
        browser.post(panel_url + "/logout", data={"csrf_token": token}, allow_redirects=False, timeout=10)
        assert stream.ended.wait(CHECK_SECONDS + 5) and stream.said("event: signed_out")
    finally:
        stream.close()


FOREIGN_TARGETS = [
    "/\t/evil.example",
    "/\n/evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/ /evil.example",
    "evil.example",
    "/\x00/evil.example",
    "/\u3000/evil.example",
]


def test_sign_in_never_redirects_to_another_site(start_panel, merchant):
    panel_url = start_panel()  # one panel for every target: starting one costs a second
    for target in FOREIGN_TARGETS:
        _, response = sign_in(panel_url, as_merchant(merchant), next_=target)
        assert (response.status_code, response.headers["Location"]) == (302, "/"), repr(target)


def test_sign_in_returns_to_the_page_asked_for(start_panel, merchant):
    _, response = sign_in(start_panel(), as_merchant(merchant), next_="/reports?period=month&from=2026-01-01")
    assert response.headers["Location"] == "/reports?period=month&from=2026-01-01"


def test_one_session_gets_a_few_streams_not_all_the_threads(start_panel, merchant):
    panel_url = start_panel()
    browser, _ = sign_in(panel_url, as_merchant(merchant))
    streams = [Stream(panel_url, browser) for _ in range(4)]
    try:
        assert [s.status for s in streams] == [200] * 4
        refused = browser.get(panel_url + "/stream", timeout=10)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_requests"
        other, _ = sign_in(panel_url, as_merchant(merchant))  # another sign-in is another session
        streams.append(Stream(panel_url, other))
        assert streams[-1].status == 200
    finally:
        for stream in streams:
            stream.close()


# Header values travel as bytes, read as Latin-1: "²" as the single byte 0xB2 (curl can send it), and
# "²" and the Arabic-Indic one as a browser sends them (UTF-8); then 5,000 digits and other non-numbers.
STRANGE_SUFFIXES = [
    "\u00b2",
    "\u00b2".encode().decode("latin-1"),
    "\u0661".encode().decode("latin-1"),
    "1" * 5000,
    "-1",
    "",
    "12abc",
]


def test_a_strange_last_event_id_gets_a_resync_not_an_error(start_panel, merchant):
    panel_url = start_panel()
    browser, _ = sign_in(panel_url, as_merchant(merchant))
    first = Stream(panel_url, browser)
    try:
        wait_until(lambda: first.said('"process"'), 10, message="hello")
        boot = next(line for line in first.lines if '"process"' in line).split('"')[3]
        for suffix in STRANGE_SUFFIXES:
            fresh, _ = sign_in(panel_url, as_merchant(merchant))  # a closed stream holds its slot until written to
            again = Stream(panel_url, fresh, headers={"Last-Event-ID": f"{boot}-{suffix}"})
            assert again.status == 200, repr(suffix[:10])
            wait_until(lambda stream=again: stream.said("event: resync"), 10, message=f"a resync for {suffix[:10]!r}")
            again.close()
    finally:
        first.close()


def test_the_panel_cookie_holds_no_merchant_secret_even_for_whoever_has_the_panel_key(start_panel, merchant):
    browser, _ = sign_in(start_panel(), as_merchant(merchant))
    reader = create_panel(PanelSettings(secret_key=Secret(PANEL_KEY), consume_results=False))
    session = reader.session_interface.get_signing_serializer(reader).loads(browser.cookies["panel_session"])
    credential = reader.extensions["panel"].vault.open(session["cred"])
    assert credential.kind == "session" and merchant[1] not in repr(vars(credential))
