"""Panel sessions against the real API and ledger: read-only, revocable, void once the credential changes."""

import dataclasses

from sqlalchemy import text

from infra.runtime.settings import Secret

from gateway_api import create_app
from tests.integration.gateway_api.support import ADMIN, create_merchant, transaction_body


def open_session(client, **auth) -> str:
    response = client.post("/v1/sessions", json={"ttl_seconds": 3600}, **auth)
    assert response.status_code == 201, response.json
    return response.json["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_merchant_session_reads_what_the_merchant_reads_and_nothing_more(client, merchant, other_merchant):
    mine = client.post("/v1/transactions", json=transaction_body(), auth=merchant).json
    client.post("/v1/transactions", json=transaction_body(), auth=other_merchant)
    token = open_session(client, auth=merchant)

    assert client.get("/v1/me", headers=bearer(token)).json == {
        "type": "merchant",
        "account_id": merchant[0],
        "name": "Shop A",
    }
    assert [t["id"] for t in client.get("/v1/transactions", headers=bearer(token)).json["data"]] == [mine["id"]]
    assert client.get(f"/v1/transactions/{mine['id']}", headers=bearer(token)).status_code == 200
    assert client.get("/v1/reports", headers=bearer(token)).status_code == 200
    for method, path, body in (
        ("post", "/v1/transactions", transaction_body()),
        ("post", "/v1/sessions", {}),
        ("post", "/v1/accounts", {"name": "x"}),
        ("get", "/v1/accounts", None),
    ):
        response = getattr(client, method)(path, json=body, headers=bearer(token))
        assert response.status_code == 403, (path, response.json)


def test_sign_out_voids_the_token_at_once(client, merchant):
    token = open_session(client, auth=merchant)
    assert client.delete("/v1/sessions/current", headers=bearer(token)).status_code == 204
    response = client.get("/v1/me", headers=bearer(token))
    assert response.status_code == 401 and response.json["error"]["type"] == "authentication_error"
    assert client.delete("/v1/sessions/current", auth=merchant).status_code == 403  # not a session


def test_rotating_the_secret_or_disabling_the_account_voids_its_sessions(client, merchant):
    token = open_session(client, auth=merchant)
    rotated = client.post(f"/v1/accounts/{merchant[0]}/secret", headers=ADMIN).json["secret"]
    assert client.get("/v1/me", headers=bearer(token)).status_code == 401
    fresh = open_session(client, auth=(merchant[0], rotated))
    assert client.get("/v1/me", headers=bearer(fresh)).status_code == 200
    client.delete(f"/v1/accounts/{merchant[0]}", headers=ADMIN)
    assert client.get("/v1/me", headers=bearer(fresh)).status_code == 401


def test_an_operator_session_lists_accounts_until_the_admin_token_changes(app, client, api_settings):
    create_merchant(client, "Shop")
    token = open_session(client, headers=ADMIN)
    assert client.get("/v1/me", headers=bearer(token)).json == {"type": "admin"}
    assert len(client.get("/v1/accounts", headers=bearer(token)).json["data"]) == 1
    assert client.post("/v1/accounts", json={"name": "x"}, headers=bearer(token)).status_code == 403

    rotated = create_app(dataclasses.replace(api_settings, admin_token=Secret("another-admin-token-0123456789")))
    try:
        assert rotated.test_client().get("/v1/me", headers=bearer(token)).status_code == 401
    finally:
        rotated.extensions["gateway_api"].engine.dispose()


def test_only_a_keyed_hash_of_the_token_is_stored(app, client, merchant):
    token = open_session(client, auth=merchant)
    with app.extensions["gateway_api"].engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM gateway_sessions")).all()
    assert len(rows) == 1 and token not in repr(rows) and token.removeprefix("sess_") not in repr(rows)


def test_session_requests_are_validated(client, merchant):
    for body in (
        {"ttl_seconds": 59},
        {"ttl_seconds": 86401},
        {"ttl_seconds": "1h"},
        {"ttl_seconds": 3600.5},
        {"ttl_seconds": "3600"},
        {"ttl_seconds": True},
    ):
        assert client.post("/v1/sessions", json=body, auth=merchant).status_code == 422
    assert client.get("/v1/me", headers=bearer("sess_not-a-real-token")).status_code == 401
    assert client.post("/v1/sessions", json={}).status_code == 401
