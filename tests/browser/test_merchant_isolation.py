"""Merchant A never sees merchant B's transactions: not in the table, not in the raw event stream."""

from __future__ import annotations

import json
import threading

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.panel_pages import row, sign_in_as_merchant, sign_in_as_operator, visible_ids
from tests.browser.test_live_panel import LIVE_WITHIN_SECONDS, post
from tests.support import wait_until
from tests.support.http import hang_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class RawStream:
    """Reads /stream with a browser context's session cookie, as any script of the merchant could."""

    def __init__(self, panel_url: str, cookies: list[dict]):
        self.ids: list[str] = []
        self.account_ids: set[str] = set()
        self.said_hello = threading.Event()
        self._session = requests.Session()
        for cookie in cookies:
            self._session.cookies.set(cookie["name"], cookie["value"])
        self._response = self._session.get(panel_url + "/stream", stream=True, timeout=(5, 30))
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event = ""
        try:
            for line in self._response.iter_lines(decode_unicode=True):
                if line.startswith("event: "):
                    event = line[7:]
                    self.said_hello.set() if event == "hello" else None
                elif line.startswith("data: ") and event == "result":
                    data = json.loads(line[6:])
                    self.ids.append(data["id"])
                    self.account_ids.add(data["account_id"])
        except (requests.RequestException, AttributeError, ValueError):
            pass  # closed by the test

    def close(self) -> None:
        hang_up(self._response)
        self._session.close()


def test_merchant_a_never_sees_merchant_b_but_the_operator_sees_both(panel_stack, new_page):
    stack = panel_stack
    shop_a, shop_b = stack.create_merchant("Shop A"), stack.create_merchant("Shop B")
    page_a, page_b, operator = new_page(), new_page(), new_page()
    sign_in_as_merchant(page_a, shop_a)
    sign_in_as_merchant(page_b, shop_b)
    sign_in_as_operator(operator, stack.settings.admin_token.reveal())
    raw_a = RawStream(stack.settings.panel_url, page_a.context.cookies())
    try:
        assert raw_a.said_hello.wait(10)
        of_b = [post(stack, shop_b, "31.00"), post(stack, shop_b, "2000.00")]
        of_a = post(stack, shop_a, "13.00")
        for transaction_id in of_b:
            expect(row(page_b, transaction_id)).not_to_have_attribute(
                "data-status", "pending", timeout=LIVE_WITHIN_SECONDS * 1000
            )
            expect(row(operator, transaction_id)).to_have_count(1)
        expect(row(page_a, of_a)).to_have_attribute("data-status", "approved", timeout=LIVE_WITHIN_SECONDS * 1000)
        wait_until(lambda: of_a in raw_a.ids, 5, message="A's own result on A's raw stream")

        assert not set(of_b) & set(visible_ids(page_a))
        # The operator is told whose row is whose; merchant A's page has no merchant column, nor B's name.
        expect(row(operator, of_a).locator(".merchant-name")).to_have_text("Shop A")
        expect(row(operator, of_b[0]).locator(".merchant-name")).to_have_text("Shop B")
        expect(page_a.locator("#transactions .merchant")).to_have_count(0)
        assert "Shop B" not in page_a.content()
        assert raw_a.account_ids == {shop_a["id"]}
        assert of_a not in visible_ids(page_b)
        # Asking the panel's JSON for B's account as merchant A still yields only A's own transactions.
        listed = page_a.evaluate(f"() => fetch('/api/transactions?account_id={shop_b['id']}').then(r => r.json())")
        assert {t["account_id"] for t in listed["data"]} == {shop_a["id"]}
        status = page_a.evaluate(f"() => fetch('/api/transactions/{of_b[0]}').then(r => r.status)")
        assert status in (403, 404)
    finally:
        raw_a.close()

    operator.select_option("#merchant-filter", shop_b["id"])
    wait_until(lambda: set(visible_ids(operator)) == set(of_b), 5, message="the operator's filter on B")
