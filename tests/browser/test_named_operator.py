"""A named operator signs in to the panel with their own credential, is named in the header, and
reads the audit trail, where what they did is under their name."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.panel_pages import sign_in_as_operator

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_named_operator_signs_in_and_finds_their_changes_in_the_audit_page(panel_stack, new_page):
    stack = panel_stack
    name = f"ada-{uuid.uuid4().hex[:8]}"
    bootstrap = {"Authorization": f"Bearer {stack.settings.admin_token.reveal()}"}
    status, created, _ = stack.request("POST", "/v1/operators", {"name": name}, headers=bootstrap)
    assert status == 201, created
    status, account, _ = stack.request(
        "POST", "/v1/accounts", {"name": "Audited Shop"}, headers={"Authorization": f"Bearer {created['credential']}"}
    )
    assert status == 201, account
    page = new_page()
    sign_in_as_operator(page, created["credential"])
    expect(page.locator("#who")).to_have_text(f"Operator {name} (all merchants)")
    page.click("nav a:has-text('Audit')")
    mine = page.locator("#audit-table tbody tr", has_text=account["id"])
    expect(mine.first).to_contain_text(name)
    expect(mine.first).to_contain_text("account.create")
    expect(mine.first).to_contain_text("succeeded")
