"""The live panel in a real browser against the whole stack: sign in, live updates, filter, reports, sign out."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.panel_pages import row, sign_in_as_merchant, wait_until_live
from tests.e2e.helpers import basic_auth, card, final_transaction, pay

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIVE_WITHIN_SECONDS = 2.0


def post(stack, merchant, amount, **card_fields) -> str:
    status, body, _ = pay(stack, merchant, amount, card(**card_fields))
    assert status == 202, body
    return body["id"]


def test_a_merchant_watches_transactions_arrive_live_filters_reads_reports_and_signs_out(
    panel_stack, new_page, tmp_path
):
    stack = panel_stack
    merchant = stack.create_merchant("Corner Bakery")
    page = new_page()
    sign_in_as_merchant(page, merchant)
    expect(page.locator("#who")).to_have_text("Corner Bakery")

    started = time.monotonic()
    approved = post(stack, merchant, "25.00")
    expect(row(page, approved)).to_have_attribute("data-status", "approved", timeout=LIVE_WITHIN_SECONDS * 1000)
    approved_after = time.monotonic() - started
    rejected = post(stack, merchant, "1500.00", number="5555555555554444")
    expect(row(page, rejected)).to_have_attribute("data-status", "rejected", timeout=LIVE_WITHIN_SECONDS * 1000)
    expect(row(page, rejected).locator(".reason")).to_have_text("you dont have limit for this transaction")
    expect(row(page, approved).locator(".amount")).to_have_text("25.00")
    expect(row(page, approved).locator(".card-cell")).to_have_text("visa •••• 1111")
    print(f"approved row live {approved_after:.2f}s after POST")

    more = [
        post(stack, merchant, amount, **fields)
        for amount, fields in (
            ("42.90", {}),
            ("7.35", {"number": "378282246310005", "cvv": "5719"}),
            ("0.50", {}),
            ("120.00", {"number": "5555555555554444"}),
            ("15.00", {"number": "378282246310005", "cvv": "571"}),
            ("980.00", {}),
        )
    ]
    created = [
        final_transaction(stack, merchant, transaction_id)["created_at"]  # in the ledger too, for the reports
        for transaction_id in [approved, rejected, *more]
    ]
    for transaction_id in more:
        expect(row(page, transaction_id)).not_to_have_attribute("data-status", "pending")
    expect(page.locator("#kpi-count")).to_have_text("8")
    expect(page.locator("#kpi-approval")).to_have_text("62.5%")  # 5 of 8
    expect(page.locator("#kpi-volume")).to_have_text("1,175.25")
    expect(page.locator("#reasons li")).to_have_count(3)
    page.screenshot(path=str(tmp_path / "panel.png"), full_page=True)  # a test artifact

    page.select_option("#status-filter", "rejected")
    expect(page.locator("#transactions tbody tr[data-id]")).to_have_count(3)
    assert set(page.locator("#transactions tbody tr").evaluate_all("rows => rows.map(r => r.dataset.status)")) == {
        "rejected"
    }
    expect(row(page, approved)).to_have_count(0)

    row(page, rejected).click()
    expect(page.locator("#detail dd[data-field=id]")).to_have_text(rejected)
    expect(page.locator("#detail dd[data-field='rejection reason']")).to_have_text(
        "you dont have limit for this transaction"
    )
    page.keyboard.press("Escape")

    page.click("nav >> text=Reports")
    expect(page.locator("#report-form")).to_have_attribute("data-loaded", re.compile("period=day"))
    # The days the transactions were created on (UTC, as the ledger counts them), also across a month's end.
    first_day, last_day = utc_date(min(created)), datetime.now(timezone.utc).date()
    page.fill("#from", first_day.isoformat())
    page.fill("#to", last_day.isoformat())
    page.click("#report-form button[type=submit]")
    expect(page.locator("#report-form")).to_have_attribute("data-loaded", re.compile(f"from={first_day}"))
    api_report = _api_report(stack, merchant, first_day, last_day)
    totals = _sum(api_report["data"])
    expect(page.locator("#total-approved-count")).to_have_text(str(totals["approved_count"]))
    expect(page.locator("#total-approved-volume")).to_have_text(f"{totals['approved_volume']:,.2f}")
    expect(page.locator("#total-rejected-count")).to_have_text(str(totals["rejected_count"]))
    assert totals["approved_count"] == 5 and totals["rejected_count"] == 3
    page.select_option("#period", "year")
    page.click("#report-form button[type=submit]")
    for year in {utc_date(moment).year for moment in created}:
        expect(page.locator(f'#report-table tr[data-period="{year}"]')).to_have_count(1)
    expect(page.locator("#total-approved-volume")).to_have_text(f"{totals['approved_volume']:,.2f}")
    page.select_option("#period", "day")

    with page.expect_download() as download_info:
        page.click("#csv-link")
    downloaded = Path(download_info.value.path()).read_text()
    api_csv = _api_csv(stack, merchant, first_day, last_day)
    assert list(csv.reader(io.StringIO(downloaded))) == list(csv.reader(io.StringIO(api_csv)))

    page.click("#sign-out")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))


def test_the_stream_catches_up_after_the_network_drops(panel_stack, new_page):
    stack = panel_stack
    merchant = stack.create_merchant("Flaky Wifi Cafe")
    page = new_page()
    sign_in_as_merchant(page, merchant)
    page.context.set_offline(True)
    missed = post(stack, merchant, "11.00")
    final_transaction(stack, merchant, missed)
    page.context.set_offline(False)
    expect(row(page, missed)).to_have_attribute("data-status", "approved", timeout=8000)
    wait_until_live(page)
    after = post(stack, merchant, "12.00")
    expect(row(page, after)).to_have_attribute("data-status", "approved", timeout=LIVE_WITHIN_SECONDS * 1000)


def test_the_live_view_fits_a_phone_screen(panel_stack, new_page):
    stack = panel_stack
    merchant = stack.create_merchant("Pocket Shop")
    page = new_page(width=390, height=844)
    sign_in_as_merchant(page, merchant)
    transaction_id = post(stack, merchant, "9.99")
    expect(row(page, transaction_id)).to_have_attribute("data-status", "approved", timeout=LIVE_WITHIN_SECONDS * 1000)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px at phone width"


def utc_date(rfc3339: str) -> date:
    return datetime.fromisoformat(rfc3339).astimezone(timezone.utc).date()


def _report_params(first_day: date, last_day: date) -> str:
    return f"period=day&from={first_day.isoformat()}&to={last_day.isoformat()}"


def _api_report(stack, merchant, first_day: date, last_day: date) -> dict:
    status, body, _ = stack.request(
        "GET", "/v1/reports?" + _report_params(first_day, last_day), headers=basic_auth(merchant)
    )
    assert status == 200, body
    return body


def _api_csv(stack, merchant, first_day: date, last_day: date) -> str:
    import urllib.request

    request = urllib.request.Request(
        stack.settings.api_url + "/v1/reports?" + _report_params(first_day, last_day) + "&format=csv",
        headers=basic_auth(merchant),
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def _sum(lines: list[dict]) -> dict:
    from decimal import Decimal

    return {
        "approved_count": sum(line["approved_count"] for line in lines),
        "approved_volume": sum((Decimal(line["approved_volume"]) for line in lines), Decimal("0")),
        "rejected_count": sum(line["rejected_count"] for line in lines),
    }


def test_a_merchant_sees_its_refunds_arrive_live_as_refund_rows(panel_stack, new_page):
    stack = panel_stack
    merchant = stack.create_merchant("Refund Corner")
    page = new_page()
    sign_in_as_merchant(page, merchant)
    wait_until_live(page)
    paid = post(stack, merchant, "25.00")
    expect(row(page, paid)).to_have_attribute("data-status", "approved")
    refunds = []
    for amount in ("10.00", "20.00"):  # the second one asks more than is left: it fails
        status, answer, _ = stack.request(
            "POST", "/v1/refunds", {"transaction": paid, "amount": amount}, headers=basic_auth(merchant)
        )
        assert status == 202, answer
        refunds.append(answer["id"])
    succeeded, failed = (row(page, refund_id) for refund_id in refunds)
    expect(succeeded).to_have_attribute("data-status", "succeeded", timeout=LIVE_WITHIN_SECONDS * 1000)
    expect(succeeded).to_have_attribute("data-kind", "refund")
    expect(succeeded.locator(".amount")).to_have_text("−10.00")
    expect(succeeded.locator(".card-cell")).to_have_text(f"refund of {paid}")
    expect(failed).to_have_attribute("data-status", "failed", timeout=LIVE_WITHIN_SECONDS * 1000)
    expect(failed.locator(".reason")).to_have_text("amount_exceeds_refundable")
    expect(page.locator("#kpi-count")).to_have_text("1")  # the figures count payments
    succeeded.click()
    expect(page.locator('#detail-body [data-field="id"]')).to_have_text(paid)  # the refunded payment
