"""Named operators on SQLite and MariaDB: one credential per person, stored as a scrypt hash, with an
expiry, revocable at once (whatever the caches), a second factor for the panel, and the bootstrap
admin token that creates them and can then be turned off."""

from __future__ import annotations

import logging
import time

import pyotp
import pytest
from sqlalchemy import select, update

from infra.kernel.clock import utc_now

from gateway_api.adapters.tables import operators
from gateway_api.domain.operators import BOOTSTRAP_NAME
from tests.integration.gateway_api.operator_support import api_on, bearer, cli, close, create_operator
from tests.integration.gateway_api.support import ADMIN


@pytest.fixture
def api(database_url, api_settings):
    app = api_on(database_url, api_settings)
    yield app
    close(app)


@pytest.fixture
def client(api):
    return api.test_client()


def test_an_operator_s_actions_carry_their_name_in_the_log_and_the_audit_trail(client, caplog):
    ada = create_operator(client, "ada")
    with caplog.at_level(logging.INFO, logger="gateway_api.access"):
        response = client.post("/v1/accounts", json={"name": "Shop"}, headers=bearer(ada) | {"X-Request-Id": "req-42"})
    assert response.status_code == 201 and response.headers["X-Request-Id"] == "req-42"
    (line,) = [r for r in caplog.records if r.getMessage() == "request" and r.path == "/v1/accounts"]
    assert (line.operator, line.request_id, line.account_id) == ("ada", "req-42", None)
    entries = client.get("/v1/audit_events", headers=ADMIN).json["data"]
    created = next(e for e in entries if e["action"] == "account.create")
    assert (created["actor"], created["actor_kind"], created["credential"]) == (
        "ada",
        "operator",
        "operator_credential",
    )
    assert (created["object_id"], created["request_id"], created["client_address"]) == (
        response.json["id"],
        "req-42",
        "127.0.0.1",
    )
    made_ada = next(e for e in entries if e["action"] == "operator.create")
    assert (made_ada["actor"], made_ada["actor_kind"], made_ada["object_id"]) == (BOOTSTRAP_NAME, "bootstrap", "ada")


@pytest.mark.parametrize(
    "hostile", ["r" * 65, "r" * 8000, "req 42", "req\u00e9", "req\u0664\u0662", "req\t42", "req\x00", "<script>", "a/b"]
)
def test_a_hostile_request_id_is_replaced_by_a_fresh_one_in_the_answer_the_log_and_the_audit_trail(client, hostile):
    ada = create_operator(client, "ada")
    response = client.post("/v1/accounts", json={"name": "Shop"}, headers=bearer(ada) | {"X-Request-Id": hostile})
    assert response.status_code == 201
    fresh = response.headers["X-Request-Id"]
    assert fresh != hostile and len(fresh) == 32 and int(fresh, 16) >= 0
    entries = client.get("/v1/audit_events", headers=ADMIN).json["data"]
    created = next(e for e in entries if e["action"] == "account.create")
    assert created["request_id"] == fresh


def test_only_a_scrypt_hash_of_the_credential_is_stored(client, api):
    credential = create_operator(client, "ada")
    with api.extensions["gateway_api"].engine.connect() as connection:
        row = connection.execute(select(operators)).one()
    assert row.credential_hash.startswith("scrypt$16384$8$1$") and credential not in str(tuple(row))
    assert credential.split(".", 1)[1] not in str(tuple(row))


def test_a_disabled_operator_is_refused_within_a_second_by_every_process(database_url, api_settings):
    first, second = api_on(database_url, api_settings), api_on(database_url, api_settings)
    try:
        ada = create_operator(first.test_client(), "ada")
        assert second.test_client().get("/v1/accounts", headers=bearer(ada)).status_code == 200  # now cached there
        disabled_at = time.monotonic()
        assert first.test_client().delete("/v1/operators/ada", headers=ADMIN).status_code == 200
        assert second.test_client().get("/v1/accounts", headers=bearer(ada)).status_code == 401
        assert time.monotonic() - disabled_at < 1.0
    finally:
        close(first)
        close(second)


def test_an_expired_operator_credential_is_refused(client, api):
    ada = create_operator(client, "ada")
    assert client.get("/v1/accounts", headers=bearer(ada)).status_code == 200
    with api.extensions["gateway_api"].engine.begin() as connection:  # its expiry passes
        connection.execute(update(operators).values(expires_at=utc_now()))
    assert client.get("/v1/accounts", headers=bearer(ada)).status_code == 401


def test_a_reissued_credential_replaces_the_old_one_at_once(client, api):
    old = create_operator(client, "ada")
    assert client.get("/v1/accounts", headers=bearer(old)).status_code == 200
    code, issued = cli(api, "operators", "reissue", "ada")
    assert code == 0 and issued["credential"] != old
    assert client.get("/v1/accounts", headers=bearer(old)).status_code == 401
    assert client.get("/v1/accounts", headers=bearer(issued["credential"])).status_code == 200


def test_an_operator_who_requires_a_second_factor_needs_the_code_for_a_panel_session(client, api):
    ada = create_operator(client, "ada")
    code, factor = cli(api, "operators", "require-second-factor", "ada")
    assert code == 0 and factor["provisioning_uri"].startswith("otpauth://totp/")
    refused = client.post("/v1/sessions", json={}, headers=bearer(ada))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "second_factor_required"
    assert client.post("/v1/sessions", json={"one_time_code": "000000"}, headers=bearer(ada)).status_code == 403
    opened = client.post(
        "/v1/sessions", json={"one_time_code": pyotp.TOTP(factor["totp_secret"]).now()}, headers=bearer(ada)
    )
    assert opened.status_code == 201, opened.json
    session = bearer(opened.json["token"])
    assert client.get("/v1/accounts", headers=session).status_code == 200
    assert client.delete("/v1/operators/ada", headers=ADMIN).status_code == 200
    assert client.get("/v1/accounts", headers=session).status_code == 401  # the session goes with the operator
    assert "totp_secret" not in str(client.get("/v1/audit_events", headers=ADMIN).json)


def test_the_bootstrap_token_can_be_turned_off_and_named_operators_keep_working(database_url, api_settings):
    on = api_on(database_url, api_settings)
    ada = create_operator(on.test_client(), "ada")
    bootstrap_session = on.test_client().post("/v1/sessions", json={}, headers=ADMIN).json["token"]
    close(on)
    off = api_on(database_url, api_settings, admin_token_enabled=False)
    try:
        client = off.test_client()
        assert client.get("/v1/accounts", headers=ADMIN).status_code == 401
        assert client.get("/v1/accounts", headers=bearer(bootstrap_session)).status_code == 401
        assert client.post("/v1/accounts", json={"name": "Shop"}, headers=bearer(ada)).status_code == 201
    finally:
        close(off)


def test_operator_names_are_unique_and_plain(client):
    create_operator(client, "ada")
    again = client.post("/v1/operators", json={"name": "ada"}, headers=ADMIN)
    assert again.status_code == 422 and again.json["error"]["param"] == "name"
    assert client.post("/v1/operators", json={"name": "Ada Lovelace"}, headers=ADMIN).status_code == 422


def test_a_merchant_cannot_manage_operators(client, merchant):
    assert client.post("/v1/operators", json={"name": "eve"}, auth=merchant).status_code == 403
    assert client.get("/v1/operators", auth=merchant).status_code == 403
