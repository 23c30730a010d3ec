"""The reports page for finance: a chart of approved volume and approval rate per period, the
rejections by reason one per row, the same figures as the API's report."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from infra.kernel.contracts import TransactionResult
from infra.runtime.db import build_engine

from gateway_api.adapters.ledger_repository import SqlLedger
from tests.browser.panel_pages import save_screenshot, sign_in_as_merchant, sign_in_as_operator
from tests.browser.test_live_panel import post
from tests.e2e.helpers import basic_auth, final_transaction
from tests.support import utc_today

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIMIT = "you dont have limit for this transaction"
EXPIRY = "invalid expiration month"
MINIMUM = "the amount must be greater than 1"

# Days ago -> the merchant's decided transactions that day: (status, amount, reason). No pending
# ones: a row pending for days would set off the shared stack's stale-pending alert.
HISTORY = {
    4: [("approved", "100.00", ""), ("approved", "50.00", ""), ("rejected", "1500.00", LIMIT)],
    2: [("rejected", "0.50", MINIMUM), ("rejected", "2000.00", LIMIT)],
    1: [("approved", "20.00", "")],
    0: [("approved", "1234.56", ""), ("rejected", "15.00", EXPIRY)],
}


def write_history(stack, account_id: str, today: date) -> None:
    """Days of ledger the clock cannot produce in a test, written into the running stack's database
    the way the results consumer writes decisions (at 00:00:01 UTC, so never in the future)."""
    engine = build_engine(stack.settings.gateway_db)
    try:
        ledger = SqlLedger(engine)
        for days_ago, entries in HISTORY.items():
            moment = datetime.combine(today - timedelta(days=days_ago), time(0, 0, 1)).isoformat() + "Z"
            ledger.apply_results(
                [
                    TransactionResult(
                        str(uuid.uuid4()), status, reason, account_id, amount, "visa", "1111", moment, moment
                    )
                    for status, amount, reason in entries
                ]
            )
    finally:
        engine.dispose()


def api_report(stack, merchant: dict, period: str, first: date, last: date) -> dict:
    status, body, _ = stack.request(
        "GET", f"/v1/reports?period={period}&from={first}&to={last}", headers=basic_auth(merchant)
    )
    assert status == 200, body
    return body


def percent(part: int, whole: int) -> str:
    tenths = (2000 * part + whole) // (2 * whole)  # half up, as the page rounds
    return f"{tenths // 10}.{tenths % 10}%"


def show(page: Page, period: str, first: date, last: date) -> None:
    # The page fills the form with its defaults (this month so far) when its script starts, then asks for
    # them (the CSV link gets their query at once): wait for that, or the defaults may overwrite what is
    # typed here (a CI run sent from=2026-12-01 instead of the 2026-12-02 filled in).
    expect(page.locator("#csv-link")).to_have_attribute("href", re.compile(r"\?period="))
    page.select_option("#period", period)
    page.fill("#from", first.isoformat())
    page.fill("#to", last.isoformat())
    page.click("#report-form button[type=submit]")
    expect(page.locator("#report-form")).to_have_attribute(
        "data-loaded", re.compile(f"^period={period}&from={first}&to={last}(&|$)")
    )


def labels(page: Page, selector: str) -> list[str]:
    return page.locator(selector).evaluate_all("nodes => nodes.map(n => n.getAttribute('aria-label'))")


def expected_bar_labels(report: dict) -> list[str]:
    return [
        f"{line['period']}: approved volume {Decimal(line['approved_volume']):,.2f} ({line['approved_count']} approved)"
        for line in report["data"]
    ]


def expected_point_labels(report: dict) -> list[str]:
    labels_ = []
    for line in report["data"]:
        decided = line["approved_count"] + line["rejected_count"]
        if decided:
            labels_.append(
                f"{line['period']}: approval rate {percent(line['approved_count'], decided)} "
                f"({line['approved_count']} of {decided} decided)"
            )
    return labels_


@pytest.fixture
def merchant_with_history(panel_stack):
    merchant = panel_stack.create_merchant("Ledger History Shop")
    today = utc_today()
    write_history(panel_stack, merchant["id"], today)
    return merchant, today


def test_the_reports_chart_draws_volume_and_approval_rate_per_period(
    panel_stack, new_page, merchant_with_history, tmp_path
):
    stack, (merchant, today) = panel_stack, merchant_with_history
    first = today - timedelta(days=5)
    page = new_page()
    errors = []  # a script or style refused by the Content-Security-Policy shows up here
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in_as_merchant(page, merchant)
    page.click("nav >> text=Reports")
    show(page, "day", first, today)
    report = api_report(stack, merchant, "day", first, today)
    assert len(report["data"]) == 4  # six days in the range, two without any transaction

    chart = page.locator("#report-chart")
    expect(chart).to_have_attribute("role", "group")
    expect(page.locator("#report-chart-title")).to_have_text("Approved volume and approval rate per day")
    expect(chart.locator(".volume-bar")).to_have_count(4)
    expect(chart.locator(".rate-point")).to_have_count(4)
    assert labels(page, "#report-chart .volume-bar") == expected_bar_labels(report)
    assert labels(page, "#report-chart .rate-point") == expected_point_labels(report)
    assert expected_point_labels(report)[0] == f"{first + timedelta(days=1)}: approval rate 66.7% (2 of 3 decided)"
    day_without_approval = chart.locator(f'.volume-bar[data-period="{today - timedelta(days=2)}"]')
    expect(day_without_approval).to_have_attribute("data-volume", "0.00")
    expect(chart.get_by_role("img", name=f"{today}: approved volume 1,234.56 (1 approved)")).to_have_count(1)
    assert chart.bounding_box()["height"] > 100
    heights = chart.locator(".volume-bar").evaluate_all("bars => bars.map(b => b.getBBox().height)")
    assert max(heights) > 100 and min(heights) == 0  # 1,234.56 near the top, the rejected-only day flat

    expect(page.locator("#total-approval-rate")).to_have_text(percent(4, 8))
    expect(page.locator(f'#report-table tbody tr[data-period="{today}"] td').nth(3)).to_have_text("50.0%")
    save_screenshot(page, "TEST_REPORTS_SCREENSHOT", tmp_path / "reports.png")
    assert errors == []


def test_rejections_by_reason_are_one_row_each_and_not_repeated_in_the_total(
    panel_stack, new_page, merchant_with_history
):
    stack, (merchant, today) = panel_stack, merchant_with_history
    first = today - timedelta(days=5)
    page = new_page()
    sign_in_as_merchant(page, merchant)
    page.goto("/reports")
    show(page, "day", first, today)

    reasons = page.locator("#reasons-table tbody tr")
    expect(reasons).to_have_count(3)
    shown = reasons.evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.textContent))")
    assert shown == [[LIMIT, "2", "50.0%"], [EXPIRY, "1", "25.0%"], [MINIMUM, "1", "25.0%"]]
    footer = page.locator("#report-table tfoot").inner_text()
    assert not any(reason in footer for reason in (LIMIT, EXPIRY, MINIMUM))
    assert ";" not in page.locator("#report-table").inner_text()
    expect(page.locator("#total-rejected-count")).to_have_text("4")

    show(page, "month", first, today)
    months = api_report(stack, merchant, "month", first, today)["data"]
    expect(page.locator("#report-chart .volume-bar")).to_have_count(len(months))
    expect(page.locator("#report-chart-title")).to_have_text("Approved volume and approval rate per month")


def test_an_operator_reads_one_merchants_report_through_the_filter(panel_stack, new_page, merchant_with_history):
    stack, (merchant, today) = panel_stack, merchant_with_history
    first = today - timedelta(days=5)
    other = stack.create_merchant("Another Shop")
    final_transaction(stack, other, post(stack, other, "7.00"))  # in the report of all merchants only
    page = new_page()
    sign_in_as_operator(page, stack.settings.admin_token.reveal())
    held = []  # the page's first report request, for every merchant, answered only at the end

    def hold_the_first(route):
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route(re.compile(r"/api/reports\?"), hold_the_first)
    page.goto("/reports")
    page.select_option("#merchant-filter", merchant["id"])
    show(page, "day", first, today)
    report = api_report(stack, merchant, "day", first, today)
    assert labels(page, "#report-chart .volume-bar") == expected_bar_labels(report)
    expect(page.locator("#total-approved-volume")).to_have_text("1,404.56")

    with page.expect_response(re.compile(r"/api/reports\?")):
        held[0].continue_()  # the older answer arrives last: it must not replace the newer one
    page.wait_for_timeout(300)
    assert labels(page, "#report-chart .volume-bar") == expected_bar_labels(report)
    expect(page.locator("#total-approved-volume")).to_have_text("1,404.56")
