"""A real Chromium (Debian's, driven by Playwright) against the whole stack started as processes."""

from __future__ import annotations

import os
import urllib.request

import pytest

from tests.support import skip_or_fail, wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium); browsers cannot be downloaded here")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def panel_stack(running_stack):
    """The running stack, once every panel worker's results reader has its partitions."""
    url = running_stack.settings.panel_url + "/readyz"

    def ready_several_times_in_a_row():
        for _ in range(6):  # requests land on different gunicorn workers
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status != 200:
                        return False
            except OSError:
                return False
        return True

    wait_until(ready_several_times_in_a_row, 30, interval=0.2, message="panel /readyz")
    return running_stack


@pytest.fixture
def new_page(browser, panel_stack):
    """Pages in fresh browser contexts (separate cookie jars), closed after the test."""
    contexts = []

    def open_page(width: int = 1280, height: int = 860):
        context = browser.new_context(
            viewport={"width": width, "height": height}, timezone_id="UTC", base_url=panel_stack.settings.panel_url
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()
