"""A real gateway API (SQLite ledger, the test broker) and panels in front of it, all on real ports."""

from __future__ import annotations

import contextlib
import re

import pytest
import requests

from infra.runtime.settings import Secret

from gateway_api import create_app as create_api
from gateway_api.settings import Settings as ApiSettings
from panel.bootstrap import create_app as create_panel
from panel.settings import Settings as PanelSettings
from tests.integration.gateway_api.support import ADMIN, ADMIN_TOKEN, WEBHOOK_SECRETS_KEY, create_merchant
from tests.support.http import serving
from tests.support.transactions import TEST_CARD_KEYS

PANEL_KEY = "integration-test-panel-key-0123456789"
CHECK_SECONDS = 1  # how often a stream re-asks the API (the default is 60)


@pytest.fixture
def api(kafka_settings, sqlite_url):
    """(base URL, Flask test client) of a gateway API served on a real port."""
    app = create_api(
        ApiSettings(
            admin_token=Secret(ADMIN_TOKEN),
            secret_pepper=Secret("test-pepper-0123456789"),
            database_url=sqlite_url,
            kafka=kafka_settings,
            card_data_keys=TEST_CARD_KEYS,
            webhook_secrets_key=Secret(WEBHOOK_SECRETS_KEY),
        )
    )
    with serving(app) as url:
        yield url, app.test_client()
    app.extensions["gateway_api"].close()


@pytest.fixture
def start_panel(api, kafka_settings):
    """``start()`` serves a panel process (its own results reader) in front of the API; returns its URL.
    Several share PANEL_SECRET_KEY, as the workers and replicas of one deployment do."""
    stack = contextlib.ExitStack()

    def start(**overrides) -> str:
        app = create_panel(
            PanelSettings(
                secret_key=Secret(PANEL_KEY),
                gateway_url=api[0],
                kafka=kafka_settings,
                credential_check_seconds=CHECK_SECONDS,
                gateway_timeout_seconds=5,
                **overrides,
            )
        )
        stack.callback(app.extensions["panel"].shutdown)
        url = stack.enter_context(serving(app))
        assert app.extensions["panel"].reader.ready.wait(20), "the panel's results reader did not start"
        return url

    with stack:
        yield start


@pytest.fixture
def merchant(api) -> tuple[str, str]:
    return create_merchant(api[1], "Panel Shop")


def csrf_token(browser: requests.Session, panel_url: str) -> str:
    page = browser.get(panel_url + "/login", timeout=10)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def sign_in(panel_url: str, form: dict, next_: str = "") -> tuple[requests.Session, requests.Response]:
    """A browser's cookie jar after posting the sign-in form, and the form's answer (not followed)."""
    browser = requests.Session()
    data = {"csrf_token": csrf_token(browser, panel_url), "next": next_, **form}
    return browser, browser.post(panel_url + "/login", data=data, allow_redirects=False, timeout=10)


def as_merchant(merchant: tuple[str, str]) -> dict:
    return {"mode": "merchant", "account_id": merchant[0], "secret": merchant[1]}


def as_operator() -> dict:
    return {"mode": "admin", "admin_token": ADMIN["Authorization"].removeprefix("Bearer ")}
