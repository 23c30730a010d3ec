import base64

import pytest

from tests.integration.gateway_api.support import ADMIN, transaction_body


def test_creating_an_account_shows_a_strong_secret_once(client, app):
    response = client.post("/v1/accounts", json={"name": "Shop"}, headers=ADMIN)
    assert response.status_code == 201
    account = response.json
    assert set(account) == {"id", "name", "secret"} and account["name"] == "Shop"
    assert len(account["secret"]) >= 43  # 256 bits in URL-safe base64
    listed = client.get("/v1/accounts", headers=ADMIN).json["data"]
    assert listed == [
        {
            "id": account["id"],
            "name": "Shop",
            "disabled": False,
            "created_at": listed[0]["created_at"],
            "rate_limit_per_second": None,
        }
    ]
    stored = app.extensions["gateway_api"].accounts.get(account["id"])
    assert account["secret"] not in repr(stored) and stored.secret_hash != account["secret"]


def test_rotating_the_secret_invalidates_the_old_one(client, merchant):
    rotated = client.post(f"/v1/accounts/{merchant[0]}/secret", headers=ADMIN)
    assert rotated.status_code == 200 and rotated.json["id"] == merchant[0]
    assert client.get("/v1/me", auth=merchant).status_code == 401
    assert client.get("/v1/me", auth=(merchant[0], rotated.json["secret"])).status_code == 200


def test_me_tells_a_merchant_from_the_admin(client, merchant):
    assert client.get("/v1/me", auth=merchant).json == {"type": "merchant", "account_id": merchant[0], "name": "Shop A"}
    assert client.get("/v1/me", headers=ADMIN).json == {"type": "admin"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic " + base64.b64encode(b"acct_unknown:sk_whatever").decode()},
        {"Authorization": "Basic not-base64!"},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Digest username=x"},
    ],
)
def test_missing_or_bad_credentials_get_401_with_a_challenge(client, headers):
    response = client.post("/v1/transactions", json=transaction_body(), headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert response.json == {
        "error": {
            "type": "authentication_error",
            "code": "unauthorized",
            "message": "Invalid or missing credentials.",
            "param": None,
        }
    }


def test_a_wrong_secret_and_an_unknown_account_look_the_same(client, merchant):
    wrong_secret = client.get("/v1/me", auth=(merchant[0], "sk_wrong"))
    unknown = client.get("/v1/me", auth=("acct_000000000000000000000000", "sk_wrong"))
    assert (wrong_secret.status_code, wrong_secret.json, dict(wrong_secret.headers).get("WWW-Authenticate")) == (
        unknown.status_code,
        unknown.json,
        dict(unknown.headers).get("WWW-Authenticate"),
    )


def test_admin_endpoints_refuse_merchants_and_bad_tokens(client, merchant):
    assert client.post("/v1/accounts", json={"name": "X"}, auth=merchant).status_code == 403
    refused = client.get("/v1/accounts", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.post("/v1/transactions", json=transaction_body(), headers=ADMIN).status_code == 403


def test_unknown_accounts_are_404_for_the_admin(client):
    assert client.post("/v1/accounts/acct_nope/secret", headers=ADMIN).status_code == 404
    assert client.delete("/v1/accounts/acct_nope", headers=ADMIN).status_code == 404


def test_account_names_are_validated(client):
    response = client.post("/v1/accounts", json={"name": ""}, headers=ADMIN)
    assert response.status_code == 422 and response.json["error"]["param"] == "name"
