"""The panel's HTTP edge on its own: cookies, CSRF, redirects, errors. The gateway API is unreachable."""

import re

import pytest

from infra.runtime.metrics import exposition
from infra.runtime.settings import Secret

from panel import create_app
from panel.settings import Settings
from tests.unit.panel.conftest import csrf_of


def test_the_session_cookie_is_httponly_and_samesite_lax_and_secure_only_when_configured(
    client, unreachable_gateway_url
):
    cookie = client.get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure_app = create_app(
        Settings(
            secret_key=Secret("k" * 32), gateway_url=unreachable_gateway_url, cookie_secure=True, consume_results=False
        )
    )
    assert "Secure" in secure_app.test_client().get("/login").headers["Set-Cookie"]


@pytest.mark.parametrize("path", ["/", "/reports", "/reports.csv"])
def test_pages_send_a_signed_out_visitor_to_the_sign_in_form(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(
    "path", ["/api/transactions", "/api/transactions/abc", "/api/recent", "/api/reports", "/api/accounts", "/stream"]
)
def test_data_endpoints_answer_401_in_the_api_error_format_when_signed_out(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json["error"]["type"] == "authentication_error"


def test_a_form_post_without_the_csrf_token_is_refused(client):
    client.get("/login")
    response = client.post("/login", data={"mode": "merchant", "account_id": "a", "secret": "b"})
    assert response.status_code == 400
    assert b"did not come from this panel" in response.data
    assert client.post("/logout").status_code == 400


def test_sign_in_while_the_gateway_is_down_says_so_without_a_server_error(client):
    token = csrf_of(client)
    response = client.post("/login", data={"csrf_token": token, "mode": "merchant", "account_id": "a", "secret": "b"})
    assert response.status_code == 503
    assert b"gateway API is unavailable" in response.data
    assert b"Traceback" not in response.data


def test_sign_in_with_empty_fields_is_refused_before_calling_the_gateway(client):
    token = csrf_of(client)
    response = client.post("/login", data={"csrf_token": token, "mode": "admin", "admin_token": " "})
    assert response.status_code == 400 and b"Enter an account id" in response.data


def test_sign_out_clears_the_session(client):
    token = csrf_of(client)
    with client.session_transaction() as session:
        session["who"] = {"kind": "merchant", "account_id": "a", "name": "A"}
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    with client.session_transaction() as session:
        assert "who" not in session and "csrf" not in session


def test_a_forged_session_without_a_sealed_credential_is_not_signed_in(client):
    with client.session_transaction() as session:
        session["who"] = {"kind": "admin", "account_id": "", "name": ""}
        session["cred"] = "not-a-fernet-token"
    assert client.get("/").status_code == 302


def test_unknown_paths_answer_a_page_or_json_without_a_stack_trace(client):
    assert client.get("/nope").status_code == 404
    response = client.get("/api/nope")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_every_script_and_stylesheet_is_served_by_the_panel_itself(client):
    page = client.get("/login").data.decode()
    assert "Content-Security-Policy" in client.get("/login").headers
    for asset in ["common.js", "chart.js", "live.js", "reports.js", "panel.css", "favicon.svg"]:
        response = client.get(f"/static/{asset}")
        response.close()
        assert response.status_code == 200
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_health_is_open_and_metrics_are_off_the_public_port_with_bounded_method_labels(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").status_code == 200  # no consumer in this app
    assert client.get("/metrics").status_code == 404  # the gunicorn master serves them on METRICS_PORT
    client.get("/login")
    for n in range(20):
        client.open("/login", method=f"MADEUP{n}")
    metrics = exposition()[0].decode()
    assert 'panel_http_requests_total{method="other",' in metrics
    assert "MADEUP" not in metrics
    assert 'panel_http_requests_total{method="GET",route="/login",status="200"}' in metrics
    assert "panel_sse_clients" in metrics and "panel_results_received_total" in metrics


def test_a_body_above_the_limit_is_refused_with_413_before_anything_reads_it(client):
    response = client.post("/login", data={"account_id": "a", "secret": "x" * 100_000})
    assert response.status_code == 413
    nested = client.post("/api/webhook_endpoints", data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert nested.status_code == 413


def test_json_nested_too_deeply_is_invalid_json_not_a_crash(app):
    from flask import request

    body = "[" * 7000 + "]" * 7000  # 14 KB: within the size limit, beyond Python's recursion limit
    with app.test_request_context("/api/webhook_endpoints", method="POST", data=body, content_type="application/json"):
        assert request.get_json(silent=True) is None


@pytest.mark.parametrize("path", ["/api/reports", "/reports.csv", "/audit", "/api/webhook_endpoints"])
def test_a_credential_that_expires_between_the_sign_in_check_and_the_view_is_no_server_error(
    app, client, path, monkeypatch
):
    """The sealed credential ages out (PANEL_SESSION_HOURS) in the moment between login_required opening it
    and the view sending it to the API: the view goes on with the one that was checked (the API, down
    here, answers 502), instead of calling the API with none (AttributeError, a 500)."""
    from panel.domain.credential import Credential

    vault = app.extensions["panel"].vault
    with client.session_transaction() as session:
        session["who"] = {"kind": "merchant", "account_id": "a", "name": "A"}
        session["cred"] = vault.seal(Credential.session("panel-session-token"))
    opened = []
    open_once = vault.open
    monkeypatch.setattr(vault, "open", lambda token: None if opened else opened.append(1) or open_once(token))
    assert client.get(path).status_code == 502
