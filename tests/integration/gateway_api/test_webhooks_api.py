"""The webhook endpoints, events and deliveries API: merchant auth, scoping, errors, OpenAPI."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from infra.kernel.contracts import TransactionResult
from infra.runtime.settings import Secret

from gateway_api import create_app
from gateway_api.adapters.secret_box import AesGcmSecretBox
from tests.integration.gateway_api.support import ADMIN, WEBHOOK_SECRETS_KEY

RECEIVER = "http://127.0.0.1:9/hooks"  # never called here: these tests do not run a dispatcher


def create_endpoint(client, merchant, url=RECEIVER, events=("*",), **extra):
    body = {"url": url, "enabled_events": list(events)} | extra
    return client.post("/v1/webhook_endpoints", json=body, auth=merchant)


def decide(app, *pairs) -> None:
    """Apply results for (transaction id, account) pairs, as the results consumer does."""
    results = [
        TransactionResult(
            id_, "approved", "", account, "10.00", "visa", "1111", "2026-11-23T10:00:00Z", "2026-11-23T10:00:01Z"
        )
        for id_, account in pairs
    ]
    app.extensions["gateway_api"].ledger.apply_results(results)


def test_creating_an_endpoint_shows_its_secret_once_and_stores_it_encrypted(client, app, merchant):
    response = create_endpoint(client, merchant, description="orders", events=["transaction.rejected"])
    assert response.status_code == 201, response.json
    body = response.json
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert (body["url"], body["enabled_events"], body["status"], body["description"]) == (
        RECEIVER,
        ["transaction.rejected"],
        "enabled",
        "orders",
    )
    assert body["id"].startswith("we_") and body["created_at"].endswith("Z")
    listed = client.get("/v1/webhook_endpoints", auth=merchant).json["data"]
    assert listed == [{key: value for key, value in body.items() if key != "secret"}]
    assert "secret" not in client.get(f"/v1/webhook_endpoints/{body['id']}", auth=merchant).json
    with app.extensions["gateway_api"].engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT secret_ciphertext FROM gateway_webhook_endpoints").scalar_one()
    assert body["secret"] not in stored
    assert AesGcmSecretBox(Secret(WEBHOOK_SECRETS_KEY)).decrypt(stored, body["id"]) == body["secret"]


def test_rolling_gives_a_new_secret_and_deleting_removes_the_endpoint(client, app, merchant):
    created = create_endpoint(client, merchant).json
    rolled = client.post(f"/v1/webhook_endpoints/{created['id']}/secret", auth=merchant)
    assert rolled.status_code == 200 and rolled.json["secret"] != created["secret"]
    assert client.delete(f"/v1/webhook_endpoints/{created['id']}", auth=merchant).json == {
        "id": created["id"],
        "deleted": True,
    }
    assert client.get(f"/v1/webhook_endpoints/{created['id']}", auth=merchant).status_code == 404
    assert client.get("/v1/webhook_endpoints", auth=merchant).json["data"] == []


def test_another_merchants_endpoints_and_events_are_not_found(client, app, merchant, other_merchant):
    endpoint = create_endpoint(client, merchant).json
    decide(app, ("tx-a", merchant[0]))
    (event,) = client.get("/v1/events", auth=merchant).json["data"]
    for method, path in (
        ("GET", f"/v1/webhook_endpoints/{endpoint['id']}"),
        ("DELETE", f"/v1/webhook_endpoints/{endpoint['id']}"),
        ("POST", f"/v1/webhook_endpoints/{endpoint['id']}/secret"),
        ("GET", f"/v1/events/{event['id']}"),
        ("GET", f"/v1/events/{event['id']}/deliveries"),
        ("POST", f"/v1/events/{event['id']}/resend"),
    ):
        response = client.open(path, method=method, auth=other_merchant)
        assert (response.status_code, response.json["error"]["code"]) == (404, "resource_missing"), path
    assert client.get("/v1/events", auth=other_merchant).json["data"] == []
    assert client.get("/v1/webhook_deliveries", auth=other_merchant).json["data"] == []
    assert client.get("/v1/webhook_endpoints", auth=other_merchant).json["data"] == []
    resend_elsewhere = client.post(
        f"/v1/events/{event['id']}/resend", json={"endpoint_id": endpoint["id"]}, auth=other_merchant
    )
    assert resend_elsewhere.status_code == 404


@pytest.mark.parametrize("path", ["/v1/webhook_endpoints", "/v1/events", "/v1/webhook_deliveries"])
def test_webhook_resources_need_merchant_credentials(client, path):
    assert client.get(path).status_code == 401
    assert client.get(path, headers=ADMIN).json["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    "body, param",
    [
        ({"enabled_events": ["*"]}, "url"),
        ({"url": RECEIVER}, "enabled_events"),
        ({"url": RECEIVER, "enabled_events": []}, "enabled_events"),
        ({"url": RECEIVER, "enabled_events": ["transaction.refunded"]}, "enabled_events.0"),
        ({"url": RECEIVER, "enabled_events": ["*", "transaction.approved"]}, "enabled_events"),
        ({"url": "ftp://files.example.com/x", "enabled_events": ["*"]}, "url"),
        ({"url": "https://user:pw@shop.example.com/x", "enabled_events": ["*"]}, "url"),
        ({"url": "https://shop.example.com/" + "x" * 2100, "enabled_events": ["*"]}, "url"),
        ({"url": RECEIVER, "enabled_events": ["*"], "description": "d" * 256}, "description"),
        ({"url": RECEIVER, "enabled_events": ["*"], "secret": "whsec_mine"}, "secret"),
    ],
)
def test_invalid_endpoints_are_refused_with_the_parameter_named(client, merchant, body, param):
    response = client.post("/v1/webhook_endpoints", json=body, auth=merchant)
    assert response.status_code in (400, 422), response.json
    assert response.json["error"]["param"] == param


def test_a_merchant_may_have_16_endpoints_even_when_creating_them_concurrently(server, merchant):
    import requests

    def create(_):
        return requests.post(
            f"{server}/v1/webhook_endpoints", json={"url": RECEIVER, "enabled_events": ["*"]}, auth=merchant, timeout=30
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(create, range(20)))
    assert sorted(statuses) == [201] * 16 + [400] * 4
    refused = requests.post(
        f"{server}/v1/webhook_endpoints", json={"url": RECEIVER, "enabled_events": ["*"]}, auth=merchant, timeout=30
    ).json()
    assert refused["error"]["code"] == "limit_exceeded" and "16" in refused["error"]["message"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hooks",
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://169.254.169.254/latest",
        "https://[::1]/hooks",
        "https://[::ffff:10.0.0.1]/hooks",
        "https://no-such-host.invalid/hooks",
    ],
)
def test_private_and_unresolvable_urls_are_refused_without_the_flag(api_settings, url):
    from dataclasses import replace

    app = create_app(replace(api_settings, webhook_allow_private_urls=False))
    client = app.test_client()
    account = client.post("/v1/accounts", json={"name": "Strict"}, headers=ADMIN).json
    response = client.post(
        "/v1/webhook_endpoints", json={"url": url, "enabled_events": ["*"]}, auth=(account["id"], account["secret"])
    )
    app.extensions["gateway_api"].engine.dispose()
    assert (response.status_code, response.json["error"]["param"]) == (422, "url"), response.json
    message = response.json["error"]["message"]
    assert "https://" in message or "public" in message


def test_events_deliveries_and_resend(client, app, merchant):
    approved_only = create_endpoint(client, merchant, events=["transaction.approved"]).json
    rejected_only = create_endpoint(client, merchant, events=["transaction.rejected"]).json
    decide(app, ("tx-1", merchant[0]))
    (event,) = client.get("/v1/events?type=transaction.approved", auth=merchant).json["data"]
    assert client.get(f"/v1/events/{event['id']}", auth=merchant).json == event
    assert event["data"]["object"]["id"] == "tx-1" and event["data"]["object"]["status"] == "approved"
    (first,) = client.get(f"/v1/events/{event['id']}/deliveries", auth=merchant).json["data"]
    assert (first["endpoint_id"], first["status"], first["attempt_count"], first["attempts"]) == (
        approved_only["id"],
        "pending",
        0,
        [],
    )
    queued = client.post(f"/v1/events/{event['id']}/resend", auth=merchant)
    assert queued.status_code == 202 and [d["endpoint_id"] for d in queued.json["data"]] == [approved_only["id"]]
    explicit = client.post(f"/v1/events/{event['id']}/resend", json={"endpoint_id": rejected_only["id"]}, auth=merchant)
    assert explicit.status_code == 202
    log = client.get(f"/v1/events/{event['id']}/deliveries", auth=merchant).json["data"]
    assert [d["endpoint_id"] for d in log] == [approved_only["id"], approved_only["id"], rejected_only["id"]]
    recent = client.get("/v1/webhook_deliveries?limit=2", auth=merchant).json
    assert len(recent["data"]) == 2 and recent["has_more"] is True
    assert client.get("/v1/webhook_deliveries?status=failed", auth=merchant).json["data"] == []
    missing = client.post(f"/v1/events/{event['id']}/resend", json={"endpoint_id": "we_nope"}, auth=merchant)
    assert (missing.status_code, missing.json["error"]["param"]) == (404, "endpoint_id")


def test_an_event_is_resent_a_bounded_number_of_times_then_409(client, app, merchant):
    create_endpoint(client, merchant, events=["transaction.approved"])
    decide(app, ("tx-3", merchant[0]))
    (event,) = client.get("/v1/events", auth=merchant).json["data"]
    answers = [client.post(f"/v1/events/{event['id']}/resend", auth=merchant).status_code for _ in range(6)]
    assert answers == [202] * 5 + [409]
    refused = client.post(f"/v1/events/{event['id']}/resend", auth=merchant).json["error"]
    assert refused["code"] == "resend_limit_reached" and "at most" in refused["message"]


def test_an_endpoint_url_is_stored_as_ascii(client, merchant):
    created = client.post(
        "/v1/webhook_endpoints", json={"url": "http://127.0.0.1:8010/é", "enabled_events": ["*"]}, auth=merchant
    )
    assert (created.status_code, created.json["url"]) == (201, "http://127.0.0.1:8010/%C3%A9")


def test_resend_without_a_subscribed_endpoint_says_what_to_do(client, app, merchant):
    decide(app, ("tx-2", merchant[0]))
    (event,) = client.get("/v1/events", auth=merchant).json["data"]
    response = client.post(f"/v1/events/{event['id']}/resend", auth=merchant)
    assert (response.status_code, response.json["error"]["param"]) == (422, "endpoint_id")


@pytest.mark.parametrize("query", ["type=transaction.refunded", "limit=0", "limit=101", "starting_after=evt_unknown"])
def test_bad_event_queries_are_json_errors(client, merchant, query):
    response = client.get(f"/v1/events?{query}", auth=merchant)
    assert response.status_code in (400, 422) and response.json["error"]["type"] == "invalid_request_error"


def test_openapi_documents_every_webhook_endpoint_with_its_statuses(client):
    paths = client.get("/openapi.json").json["paths"]
    expected = {
        ("/v1/webhook_endpoints", "post"): {"201", "400", "401", "403", "415", "422"},
        ("/v1/webhook_endpoints", "get"): {"200", "401", "403"},
        ("/v1/webhook_endpoints/{endpoint_id}", "get"): {"200", "401", "403", "404"},
        ("/v1/webhook_endpoints/{endpoint_id}", "delete"): {"200", "401", "403", "404"},
        ("/v1/webhook_endpoints/{endpoint_id}/secret", "post"): {"200", "401", "403", "404"},
        ("/v1/events", "get"): {"200", "401", "403", "422"},
        ("/v1/events/{event_id}", "get"): {"200", "401", "403", "404"},
        ("/v1/events/{event_id}/deliveries", "get"): {"200", "401", "403", "404"},
        ("/v1/events/{event_id}/resend", "post"): {"202", "400", "401", "403", "404", "409", "422"},
        ("/v1/webhook_deliveries", "get"): {"200", "401", "403", "422"},
    }
    for (path, method), statuses in expected.items():
        responses = paths[path][method]["responses"]
        assert statuses <= set(responses), (path, method, sorted(responses))
        reads = [{"basicAuth": []}, {"panelSession": []}]
        assert paths[path][method]["security"] == (reads if method == "get" else [{"basicAuth": []}])


def test_a_panel_session_reads_webhooks_but_cannot_change_them(client, app, merchant):
    endpoint = create_endpoint(client, merchant).json
    decide(app, ("tx-s", merchant[0]))
    token = client.post("/v1/sessions", json={"ttl_seconds": 600}, auth=merchant).json["token"]
    session = {"Authorization": f"Bearer {token}"}
    (event,) = client.get("/v1/events", headers=session).json["data"]
    for path in (
        "/v1/webhook_endpoints",
        f"/v1/webhook_endpoints/{endpoint['id']}",
        f"/v1/events/{event['id']}",
        f"/v1/events/{event['id']}/deliveries",
        "/v1/webhook_deliveries",
    ):
        assert client.get(path, headers=session).status_code == 200, path
    # A stolen panel cookie must not be able to point the merchant's events somewhere else.
    for method, path, body in (
        ("POST", "/v1/webhook_endpoints", {"url": RECEIVER, "enabled_events": ["*"]}),
        ("POST", f"/v1/webhook_endpoints/{endpoint['id']}/secret", None),
        ("DELETE", f"/v1/webhook_endpoints/{endpoint['id']}", None),
        ("POST", f"/v1/events/{event['id']}/resend", None),
    ):
        response = client.open(path, method=method, json=body, headers=session)
        assert (response.status_code, response.json["error"]["code"]) == (403, "forbidden"), path
