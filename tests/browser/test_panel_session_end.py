"""The page of a merchant whose secret is rotated leaves for the sign-in form by itself.

A panel and a gateway API of their own (tests/integration/panel/conftest.py), since the shared stack's
panel re-asks the API every 60 s and this one every second.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.panel_pages import sign_in_as_merchant
from tests.integration.gateway_api.support import ADMIN
from tests.integration.panel.conftest import CHECK_SECONDS, api, merchant, start_panel  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_live_page_goes_to_sign_in_once_the_secret_is_rotated(browser, api, start_panel, merchant):  # noqa: F811
    context = browser.new_context(base_url=start_panel())
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in_as_merchant(page, {"id": merchant[0], "secret": merchant[1]})
        assert api[1].post(f"/v1/accounts/{merchant[0]}/secret", headers=ADMIN).status_code == 200
        expect(page).to_have_url(re.compile(r"/login\?next=%2F$"), timeout=(CHECK_SECONDS + 5) * 1000)
    finally:
        context.close()
