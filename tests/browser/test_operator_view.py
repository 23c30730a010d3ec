"""An operator watching every merchant sees whose row is whose; both views keep the status on a phone."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.panel_pages import row, save_screenshot, sign_in_as_merchant, sign_in_as_operator
from tests.browser.test_live_panel import post

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}


def requests_to(page: Page, path: str) -> list[str]:
    """The URLs of the page's requests to ``path``, recorded from now on."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if path in request.url else None)
    return seen


def merchant_cell_text(merchant: dict) -> str:
    return f"{merchant['name']} {merchant['id'][:13]}"


def test_an_operator_sees_each_rows_merchant_by_name_and_id_from_one_accounts_request(panel_stack, new_page, tmp_path):
    stack = panel_stack
    bakery, florist = stack.create_merchant("Corner Bakery"), stack.create_merchant("Harbour Florist")
    operator = new_page()
    accounts_requests = requests_to(operator, "/api/accounts")
    sign_in_as_operator(operator, stack.settings.admin_token.reveal())
    paid = {
        post(stack, bakery, "25.00"): bakery,
        post(stack, florist, "120.00", number="5555555555554444"): florist,
        post(stack, bakery, "0.50"): bakery,
        post(stack, florist, "1500.00"): florist,
        post(stack, bakery, "42.90", number="378282246310005", cvv="5719"): bakery,
        post(stack, florist, "15.00", number="378282246310005", cvv="571"): florist,
    }

    expect(operator.locator("#transactions thead th.merchant")).to_have_text("Merchant")
    for transaction_id, merchant in paid.items():
        cell = row(operator, transaction_id).locator("td.merchant")
        expect(cell).to_have_text(merchant_cell_text(merchant))
        expect(cell).to_have_attribute("title", merchant["id"])
    assert len(accounts_requests) == 1, accounts_requests  # the filter and every row's name: one list

    # A merchant created after the page loaded is named too, by reading the list once more.
    late = stack.create_merchant("Night Owl Pizza")
    of_late = post(stack, late, "18.50")
    expect(row(operator, of_late).locator("td.merchant")).to_have_text(merchant_cell_text(late))
    expect(operator.locator(f'#merchant-filter option[value="{late["id"]}"]')).to_have_count(1)
    assert len(accounts_requests) == 2, accounts_requests
    save_screenshot(operator, "TEST_PANEL_SCREENSHOT", tmp_path / "panel-operator.png")

    row(operator, of_late).click()
    expect(operator.locator("#detail dd[data-field=account]")).to_have_text(f"Night Owl Pizza ({late['id']})")


def test_a_merchant_sees_no_merchant_column_and_reads_no_accounts(panel_stack, new_page):
    stack = panel_stack
    merchant = stack.create_merchant("Columnless Shop")
    page = new_page()
    accounts_requests = requests_to(page, "/api/accounts")
    sign_in_as_merchant(page, merchant)
    transaction_id = post(stack, merchant, "8.00")
    expect(row(page, transaction_id)).to_have_attribute("data-status", "approved")
    expect(page.locator("#transactions th.merchant")).to_have_count(0)
    expect(row(page, transaction_id).locator("td.merchant")).to_have_count(0)
    assert accounts_requests == []
    assert page.evaluate("() => fetch('/api/accounts').then(r => r.status)") == 403


def inside_the_viewport(page: Page, locator: Locator, timeout: float = 5) -> None:
    """Visible and horizontally inside the viewport, retried like any expectation while rows re-render."""
    expect(locator).to_be_visible()
    width = page.viewport_size["width"]
    deadline = time.monotonic() + timeout
    while True:
        box = locator.bounding_box()
        if box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width:
            return
        if time.monotonic() > deadline:
            layout = page.evaluate("() => [window.scrollX, document.documentElement.scrollWidth]")
            raise AssertionError(
                f"{locator} is not inside the {width}px viewport: box {box}, scrollX and page width {layout}"
            )
        page.wait_for_timeout(100)


@pytest.mark.parametrize("viewer", ["merchant", "operator"])
def test_status_and_reason_stay_on_a_phone_screen(panel_stack, new_page, viewer):
    stack = panel_stack
    merchant = stack.create_merchant(f"Phone {viewer.title()} Shop With A Long Name")
    page = new_page(**PHONE)
    if viewer == "merchant":
        sign_in_as_merchant(page, merchant)
    else:
        sign_in_as_operator(page, stack.settings.admin_token.reveal())
    approved, rejected = post(stack, merchant, "9.99"), post(stack, merchant, "1500.00")
    expect(row(page, approved)).to_have_attribute("data-status", "approved")
    expect(row(page, rejected)).to_have_attribute("data-status", "rejected")

    for transaction_id in (approved, rejected):
        inside_the_viewport(page, row(page, transaction_id).locator(".badge"))
        inside_the_viewport(page, row(page, transaction_id).locator(".amount"))
    inside_the_viewport(page, row(page, rejected).locator(".reason"))
    expect(row(page, rejected).locator(".reason")).to_have_text("you dont have limit for this transaction")
    if viewer == "operator":
        inside_the_viewport(page, row(page, approved).locator(".merchant-name"))
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px at phone width"
