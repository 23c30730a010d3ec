"""A panel session ends after PANEL_SESSION_HOURS (12 by default): on the API's side, and on the panel's own."""

import time
from datetime import datetime, timedelta

import requests
import sqlalchemy

from tests.integration.panel.conftest import as_merchant, sign_in

HOURS = 12


def signed_in(start_panel, merchant) -> tuple[str, requests.Session]:
    panel_url = start_panel()
    browser, answer = sign_in(panel_url, as_merchant(merchant))
    assert answer.status_code == 302, answer.text
    return panel_url, browser


def signed_out(panel_url: str, browser: requests.Session) -> bool:
    page = browser.get(panel_url + "/", allow_redirects=False, timeout=10)
    data = browser.get(panel_url + "/api/recent", timeout=10)
    if page.status_code == 200 and data.status_code == 200:
        return False
    assert page.status_code == 302 and page.headers["Location"].startswith("/login") and data.status_code == 401
    return True


def test_sign_in_opens_an_api_session_of_panel_session_hours_and_its_end_signs_the_panel_out(
    api, start_panel, merchant
):
    panel_url, browser = signed_in(start_panel, merchant)
    engine = api[1].application.extensions["gateway_api"].engine
    with engine.connect() as connection:
        [row] = connection.exec_driver_sql("SELECT created_at, expires_at FROM gateway_sessions").all()
    created, expires = (datetime.fromisoformat(str(value)) for value in row)
    assert expires - created == timedelta(hours=HOURS)
    assert not signed_out(panel_url, browser)

    with engine.begin() as connection:  # the API's clock passes the end of the session
        connection.execute(
            sqlalchemy.text("UPDATE gateway_sessions SET expires_at = :gone"),
            {"gone": (created - timedelta(seconds=1)).isoformat(" ")},
        )
    assert signed_out(panel_url, browser)


def test_the_panel_ends_its_side_after_panel_session_hours_even_if_the_api_would_not(
    start_panel, merchant, monkeypatch
):
    panel_url, browser = signed_in(start_panel, merchant)
    started = time.time()
    # The panel runs in this process: its cookie signature and sealed token read time.time();
    # the API counts with datetime.now(), so for the API the session is still young.
    monkeypatch.setattr(time, "time", lambda: started + (HOURS - 0.1) * 3600)
    assert not signed_out(panel_url, browser)
    monkeypatch.setattr(time, "time", lambda: started + (HOURS + 0.1) * 3600)
    assert signed_out(panel_url, browser)
