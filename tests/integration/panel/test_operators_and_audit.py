"""The panel signs named operators in with their own credential (and their one-time code once they
require one), shows who is signed in, and shows the audit trail: a real API and panel on real ports."""

from __future__ import annotations

import pyotp

from gateway_api.domain.operators import BOOTSTRAP_NAME
from tests.integration.gateway_api.operator_support import cli, create_operator
from tests.integration.panel.conftest import as_merchant, sign_in


def as_named_operator(credential: str, code: str = "") -> dict:
    return {"mode": "admin", "admin_token": credential, "one_time_code": code}


def test_a_named_operator_signs_in_with_their_credential_and_is_named_on_the_page(api, start_panel):
    panel_url = start_panel()
    credential = create_operator(api[1], "ada")
    browser, answer = sign_in(panel_url, as_named_operator(credential))
    assert answer.status_code == 302, answer.text
    assert "Operator ada" in browser.get(panel_url + "/", timeout=10).text


def test_an_operator_who_requires_a_second_factor_needs_the_current_code(api, start_panel):
    panel_url = start_panel()
    credential = create_operator(api[1], "ada")
    app = api[1].application
    _, factor = cli(app, "operators", "require-second-factor", "ada")
    _, refused = sign_in(panel_url, as_named_operator(credential))
    assert refused.status_code == 401 and "one-time code" in refused.text
    _, wrong = sign_in(
        panel_url,
        as_named_operator(credential, "000000" if pyotp.TOTP(factor["totp_secret"]).now() != "000000" else "111111"),
    )
    assert wrong.status_code == 401
    browser, answer = sign_in(panel_url, as_named_operator(credential, pyotp.TOTP(factor["totp_secret"]).now()))
    assert answer.status_code == 302, answer.text
    assert browser.get(panel_url + "/audit", timeout=10).status_code == 200


def test_the_audit_page_shows_operators_every_entry_and_a_merchant_its_own(api, start_panel, merchant):
    panel_url = start_panel()
    credential = create_operator(api[1], "ada")
    operator, _ = sign_in(panel_url, as_named_operator(credential))
    page = operator.get(panel_url + "/audit", timeout=10)
    assert page.status_code == 200 and "operator.create" in page.text and BOOTSTRAP_NAME in page.text
    assert "session.open" in page.text and "account.create" in page.text
    shop, _ = sign_in(panel_url, as_merchant(merchant))
    own = shop.get(panel_url + "/audit", timeout=10).text
    assert "account.create" in own and "operator.create" not in own and credential not in own
    assert shop.get(panel_url + "/audit?starting_after=aud_nope", timeout=10).status_code == 400
