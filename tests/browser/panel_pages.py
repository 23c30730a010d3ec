"""What a person does in the panel, as Playwright steps the tests share."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect


def sign_in_as_merchant(page: Page, merchant: dict) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("#account_id", merchant["id"])
    page.fill("#secret", merchant["secret"])
    page.click("#merchant-login button[type=submit]")
    wait_until_live(page)


def sign_in_as_operator(page: Page, token: str) -> None:
    page.goto("/login")
    page.click("summary")
    page.fill("#admin_token", token)
    page.click("#admin-login button[type=submit]")
    wait_until_live(page)


def wait_until_live(page: Page) -> None:
    expect(page.locator("#live-state")).to_have_text("live")


def save_screenshot(page: Page, variable: str, artifact: Path) -> None:
    """A test artifact, or a picture of the docs (docs/panel.md) when `make screenshot` names its path in ``variable``."""
    target = os.environ.get(variable)
    if target:
        page.wait_for_timeout(2100)  # let the arrival highlight fade
    page.screenshot(path=target or str(artifact), full_page=True)


def row(page: Page, transaction_id: str):
    return page.locator(f'#transactions tr[data-id="{transaction_id}"]')


def visible_ids(page: Page) -> list[str]:
    return page.locator("#transactions tbody tr[data-id]").evaluate_all("rows => rows.map(r => r.dataset.id)")
