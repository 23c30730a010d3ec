"""A panel session ends after PANEL_SESSION_HOURS: the signed cookie and the sealed credential in it both expire."""
import time

import pytest

from panel.domain.principal import Credential

HOURS = 12  # Settings' default, the app fixture's


@pytest.fixture
def signed_in(app, client):
    """A merchant session as sign-in creates it; returns a function that moves the clock by ``hours``."""
    with client.session_transaction() as session:
        session.permanent = True
        session["who"] = {"kind": "merchant", "account_id": "acct_1", "name": "Shop"}
        session["cred"] = app.extensions["panel"].vault.seal(Credential.merchant("acct_1", "secret"))
    started = time.time()

    def after(hours: float, monkeypatch) -> None:
        monkeypatch.setattr(time, "time", lambda: started + hours * 3600)

    return after


def test_a_session_is_signed_in_until_its_lifetime_is_over(client, signed_in, monkeypatch):
    signed_in(HOURS - 0.1, monkeypatch)
    assert client.get("/").status_code == 200
    signed_in(HOURS + 0.1, monkeypatch)
    page = client.get("/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert client.get("/api/recent").status_code == 401


def test_an_old_credential_in_a_freshly_signed_cookie_is_refused_too(app, client, signed_in, monkeypatch):
    with client.session_transaction() as session:
        old = dict(session)
    signed_in(HOURS + 0.1, monkeypatch)
    with client.session_transaction() as session:  # re-signed now: only the sealed credential is old
        session.update(old)
    assert client.get("/").status_code == 302
    assert client.get("/stream").status_code == 401


def test_an_old_cookie_is_refused_even_around_a_credential_that_is_still_valid(app, client, monkeypatch):
    real_time, later = time.time, time.time() + HOURS * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    sealed_later = app.extensions["panel"].vault.seal(Credential.merchant("acct_1", "secret"))
    monkeypatch.setattr(time, "time", real_time)
    with client.session_transaction() as session:  # signed now, holding a credential sealed 12 h later
        session["who"] = {"kind": "merchant", "account_id": "acct_1", "name": "Shop"}
        session["cred"] = sealed_later
    monkeypatch.setattr(time, "time", lambda: later + 0.1 * 3600)
    assert client.get("/").status_code == 302
