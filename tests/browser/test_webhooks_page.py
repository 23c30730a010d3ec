"""The panel's Webhooks page in a real browser against the whole stack and a real receiver: add an
endpoint, see deliveries with their status, resend a failed one, roll the secret, delete."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from gateway_api.domain.webhook_signature import verify
from tests.browser.panel_pages import save_screenshot, sign_in_as_merchant, sign_in_as_operator
from tests.e2e.helpers import basic_auth, card, pay
from tests.support import wait_until
from tests.support.receiver import Answer, Receiver

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def post(stack, merchant, amount="12.00") -> str:
    status, body, _ = pay(stack, merchant, amount, card())
    assert status == 202, body
    return body["id"]


def requests_for(receiver: Receiver, transaction_id: str):
    return [r for r in receiver.requests if r.event["data"]["object"]["id"] == transaction_id]


def delivery_rows(page, status: str | None = None):
    selector = "#deliveries tbody tr[data-delivery]" + (f'[data-status="{status}"]' if status else "")
    return page.locator(selector)


def test_a_merchant_adds_an_endpoint_watches_deliveries_resends_rolls_the_secret_and_deletes_it(
    panel_stack, new_page, tmp_path
):
    stack = panel_stack
    merchant = stack.create_merchant("Webhook bakery")
    answers = {"status": 200}

    def answer(_number, _request):
        return Answer(answers["status"], body=b"nope" if answers["status"] >= 400 else b"ok")

    with Receiver(answer) as receiver:
        page = new_page()
        sign_in_as_merchant(page, merchant)
        page.click("nav >> text=Webhooks")
        expect(page).to_have_url(re.compile(r"/webhooks$"))
        expect(page.locator("#no-endpoints")).to_be_visible()

        # The panel session only reads: a change without the account secret, or with a wrong one, is refused.
        page.fill("#endpoint-url", receiver.url)
        page.click("#add-endpoint")
        expect(page.locator("#webhook-error")).to_have_text("Enter your account secret: changing webhooks needs it.")
        page.fill("#account-secret", "sk_not_the_secret")
        page.click("#add-endpoint")
        expect(page.locator("#webhook-error")).to_have_text("That account secret was not accepted.")
        expect(page.locator("#no-endpoints")).to_be_visible()
        page.fill("#account-secret", merchant["secret"])
        page.fill("#endpoint-description", "bakery backend")
        page.click("#add-endpoint")
        expect(page.locator("#secret-box")).to_be_visible()
        secret = page.locator("#secret-value").inner_text()
        assert secret.startswith("whsec_")
        page.click("#secret-done")
        expect(page.locator("#secret-box")).to_be_hidden()
        expect(page.locator("#endpoints tbody tr")).to_have_count(1)
        expect(page.locator("#endpoints tbody tr td.url")).to_have_text(receiver.url)

        approved = post(stack, merchant)
        wait_until(lambda: requests_for(receiver, approved), 10, message="the first event")
        (request,) = requests_for(receiver, approved)
        assert verify(request.body, request.headers["Gateway-Signature"], secret)
        expect(delivery_rows(page, "delivered")).to_have_count(1, timeout=6000)

        answers["status"] = 500
        failing = post(stack, merchant, "13.00")
        wait_until(lambda: requests_for(receiver, failing), 10, message="the failing delivery's first attempt")
        pending = delivery_rows(page, "pending")
        expect(pending).to_have_count(1, timeout=6000)
        expect(pending.locator(".last-answer")).to_have_text("HTTP 500")
        expect(pending.locator(".attempts")).to_have_text("1")
        pending.locator("td").first.click()
        expect(page.locator("#attempt-log-body tr")).to_have_count(1)
        expect(page.locator("#attempt-log-body tr td.reason")).to_have_text("HTTP 500")
        page.keyboard.press("Escape")

        answers["status"] = 200
        pending.locator("button[data-action=resend]").click()
        wait_until(lambda: len(requests_for(receiver, failing)) == 2, 10, message="the resent event")
        expect(delivery_rows(page, "delivered")).to_have_count(2, timeout=6000)
        save_screenshot(page, "TEST_WEBHOOKS_SCREENSHOT", tmp_path / "webhooks.png")

        page.locator("#endpoints button[data-action=roll]").click()
        expect(page.locator("#secret-box")).to_be_visible()
        rolled = page.locator("#secret-value").inner_text()
        assert rolled.startswith("whsec_") and rolled != secret
        after_roll = post(stack, merchant, "14.00")
        wait_until(lambda: requests_for(receiver, after_roll), 10, message="an event signed with the new secret")
        (request,) = requests_for(receiver, after_roll)
        assert verify(request.body, request.headers["Gateway-Signature"], rolled)
        assert not verify(request.body, request.headers["Gateway-Signature"], secret)

        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#endpoints button[data-action=delete]").click()
        expect(page.locator("#no-endpoints")).to_be_visible()
        gone = post(stack, merchant, "15.00")
        wait_until(
            lambda: (
                stack.request("GET", f"/v1/transactions/{gone}", headers=basic_auth(merchant))[1]["status"] != "pending"
            ),
            10,
            message="the last transaction decided",
        )
        page.wait_for_timeout(1000)
        assert requests_for(receiver, gone) == []


def test_another_merchant_sees_none_of_it_and_the_operator_is_told_to_sign_in_as_a_merchant(panel_stack, new_page):
    stack = panel_stack
    owner, other = stack.create_merchant("Owner shop"), stack.create_merchant("Other shop")
    with Receiver() as receiver:
        status, _, _ = stack.request(
            "POST", "/v1/webhook_endpoints", {"url": receiver.url, "enabled_events": ["*"]}, headers=basic_auth(owner)
        )
        assert status == 201
        paid = post(stack, owner)
        wait_until(lambda: requests_for(receiver, paid), 10, message="the owner's event")
    page = new_page()
    sign_in_as_merchant(page, other)
    page.goto("/webhooks")
    expect(page.locator("#no-endpoints")).to_be_visible()
    expect(page.locator("#no-deliveries")).to_be_visible()
    expect(delivery_rows(page)).to_have_count(0)

    operator = new_page()
    sign_in_as_operator(operator, stack.settings.admin_token.reveal())
    operator.goto("/webhooks")
    expect(operator.locator("#operator-note")).to_be_visible()
    assert operator.request.get("/api/webhook_deliveries").status == 403
