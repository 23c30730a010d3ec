import dataclasses
from datetime import timedelta

import pytest
import requests

from gateway_api import create_app
from tests.integration.gateway_api.support import create_merchant, decoded, transaction_body
from tests.support.concurrency import Spans, most_in_flight, race
from tests.support.http import serving
from tests.support.kafka import read_messages

RACERS = 8


def post(client, merchant, key, body=None):
    return client.post(
        "/v1/transactions", json=body or transaction_body(), auth=merchant, headers={"Idempotency-Key": key}
    )


def test_the_same_key_and_body_replays_the_first_answer(client, merchant, kafka_settings):
    first = post(client, merchant, "order-1")
    again = post(client, merchant, "order-1")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json == first.json and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(client.get("/v1/transactions", auth=merchant).json["data"]) == 1
    assert len(read_messages(kafka_settings, kafka_settings.topics.transactions)) == 1


def test_the_same_key_with_another_body_is_a_409(client, merchant):
    post(client, merchant, "order-2")
    response = post(client, merchant, "order-2", transaction_body(amount="11.00"))
    assert response.status_code == 409
    assert response.json["error"]["type"] == "idempotency_error"
    assert response.json["error"]["param"] == "Idempotency-Key"


def test_keys_belong_to_one_merchant(client, merchant, other_merchant):
    mine, theirs = post(client, merchant, "shared-key"), post(client, other_merchant, "shared-key")
    assert mine.json["id"] != theirs.json["id"]


def test_keys_are_case_sensitive(client, merchant):
    assert post(client, merchant, "Key").json["id"] != post(client, merchant, "key").json["id"]


def test_the_replay_stays_the_first_answer_after_the_transaction_was_decided(app, client, merchant):
    from infra.kernel.contracts import TransactionResult

    first = post(client, merchant, "order-3").json
    app.extensions["gateway_api"].ledger.apply_results(
        [
            TransactionResult(
                first["id"],
                "approved",
                "",
                merchant[0],
                "10.50",
                "visa",
                "1111",
                first["created_at"],
                first["created_at"],
            )
        ]
    )
    assert client.get(f"/v1/transactions/{first['id']}", auth=merchant).json["status"] == "approved"
    assert post(client, merchant, "order-3").json == first


def test_a_key_is_replayed_for_at_least_24_hours(app, client, merchant, monkeypatch):
    claims = app.extensions["gateway_api"].accept_transaction._claims  # the clock a claim is judged by
    first = post(client, merchant, "order-4").json
    real_now = claims._now
    monkeypatch.setattr(claims, "_now", lambda: real_now() + timedelta(hours=23, minutes=59))
    assert post(client, merchant, "order-4").json["id"] == first["id"]
    monkeypatch.setattr(claims, "_now", lambda: real_now() + timedelta(hours=24, minutes=1))
    assert post(client, merchant, "order-4").json["id"] != first["id"]


@pytest.fixture
def racing_api(api_settings, database_url):
    """Two API processes' worth of app (as two gunicorn workers or replicas: each with its own group
    commit) on one ledger, SQLite or MariaDB, each behind a threaded HTTP server; the accept use
    case of both timed into one record of spans."""
    settings = dataclasses.replace(api_settings, database_url=database_url)
    apps = [create_app(settings) for _ in range(2)]
    accept = Spans()
    for app in apps:
        services = app.extensions["gateway_api"]
        app.extensions["gateway_api"] = dataclasses.replace(
            services, accept_transaction=accept.wrapping(services.accept_transaction)
        )
    merchant = create_merchant(apps[0].test_client(), "Racer")
    with serving(apps[0]) as first, serving(apps[1]) as second:
        yield (first, second), merchant, accept
    for app in apps:
        app.extensions["gateway_api"].close()


def test_concurrent_requests_with_one_key_make_exactly_one_transaction(racing_api, kafka_settings):
    urls, merchant, accept = racing_api
    race(lambda n: requests.get(f"{urls[n % 2]}/v1/me", auth=merchant, timeout=30), RACERS)  # opens DB connections
    keys = [f"race-{round_}" for round_ in range(5)]  # a few rounds: each must end with one id

    def attempt(n, key):
        return requests.post(
            f"{urls[n % 2]}/v1/transactions",
            json=transaction_body(),
            auth=merchant,
            headers={"Idempotency-Key": key},
            timeout=30,
        )

    ids = []
    for key in keys:
        accept.spans.clear()
        responses, _ = race(lambda n, key=key: attempt(n, key), RACERS)
        assert most_in_flight(accept.spans) >= 2, f"{key}: requests handled one after another, nothing raced"
        assert {r.status_code for r in responses} == {202}
        assert len({r.json()["id"] for r in responses}) == 1, f"{key}: several transactions"
        ids.append(responses[0].json()["id"])
    listed = requests.get(f"{urls[0]}/v1/transactions", auth=merchant, timeout=10).json()["data"]
    assert sorted(t["id"] for t in listed) == sorted(ids)
    # Requests that raced the first one re-send the same id, which the processor deduplicates.
    messages = decoded(read_messages(kafka_settings, kafka_settings.topics.transactions))
    assert {m["id"] for m in messages} == set(ids)
