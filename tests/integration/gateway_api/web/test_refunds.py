"""POST/GET /v1/refunds against the real broker and a SQLite ledger; results applied as the results
consumer applies them (exactly one event per final refund, even when two appliers race)."""

import threading

import pytest
from sqlalchemy import text

from infra.kernel.clock import rfc3339, utc_now
from infra.kernel.contracts import REFUND_FIELDS, RefundResult, TransactionResult

from tests.integration.gateway_api.support import create_merchant, decoded, transaction_body
from tests.support.kafka import read_messages


def pay(client, merchant, status="approved", amount="100.00") -> str:
    transaction_id = client.post("/v1/transactions", json=transaction_body(amount=amount), auth=merchant).json["id"]
    if status != "pending":
        result = TransactionResult(
            transaction_id,
            status,
            "" if status == "approved" else "invalid credit card cvv",
            merchant[0],
            amount,
            "visa",
            "1111",
            None,
            rfc3339(utc_now()),
        )
        client.application.extensions["gateway_api"].ledger.apply_results([result])
    return transaction_id


def decide(client, refund: dict, status="succeeded", amount=None, reason=None) -> list:
    result = RefundResult(
        refund["id"],
        refund["transaction"],
        client.application.extensions["gateway_api"].refunds.get(refund["id"]).account_id,
        status,
        amount or refund["amount"],
        reason,
        amount or refund["amount"] or "0.00",
        rfc3339(utc_now()),
    )
    return client.application.extensions["gateway_api"].refunds.apply_results([result])


def test_accepts_a_refund_and_publishes_it_on_the_refunds_topic_keyed_by_account(client, merchant, kafka_settings):
    transaction_id = pay(client, merchant)
    response = client.post(
        "/v1/refunds",
        json={"transaction": transaction_id, "amount": "40.00", "reason": "requested_by_customer"},
        auth=merchant,
    )
    assert response.status_code == 202
    body = response.json
    assert body["id"].startswith("re_") and body["object"] == "refund" and body["status"] == "pending"
    assert (body["transaction"], body["amount"], body["reason"]) == (transaction_id, "40.00", "requested_by_customer")
    assert response.headers["Location"] == f"/v1/refunds/{body['id']}"
    [message] = read_messages(kafka_settings, kafka_settings.topics.refunds)
    assert message.key() == merchant[0].encode()
    [sent] = decoded([message])
    assert tuple(sent) == REFUND_FIELDS and sent["id"] == body["id"] and sent["amount"] == "40.00"
    assert client.get(f"/v1/refunds/{body['id']}", auth=merchant).json == body | {"processed_at": None}


def test_without_amount_the_refund_asks_for_whatever_is_left(client, merchant, kafka_settings):
    response = client.post("/v1/refunds", json={"transaction": pay(client, merchant)}, auth=merchant)
    assert response.status_code == 202 and response.json["amount"] is None
    assert decoded(read_messages(kafka_settings, kafka_settings.topics.refunds))[0]["amount"] is None


def test_another_merchants_or_an_unknown_transaction_is_not_found(client, merchant):
    theirs = pay(client, create_merchant(client, "Shop B"))
    for transaction_id in (theirs, "tx-unknown"):
        response = client.post("/v1/refunds", json={"transaction": transaction_id}, auth=merchant)
        assert response.status_code == 404 and response.json["error"]["param"] == "transaction"


@pytest.mark.parametrize("status", ["pending", "rejected"])
def test_a_payment_not_approved_in_the_ledger_is_a_conflict(client, merchant, status):
    response = client.post("/v1/refunds", json={"transaction": pay(client, merchant, status)}, auth=merchant)
    assert response.status_code == 409 and response.json["error"]["code"] == "transaction_not_approved"


@pytest.mark.parametrize(
    "amount", ["10.001", 10, "-1.00", "0", "0.00", "1e2", " 5.00", "", "5,00", True, "1000000000.00"]
)
def test_an_amount_that_is_not_a_positive_decimal_string_is_refused(client, merchant, amount):
    response = client.post("/v1/refunds", json={"transaction": "tx", "amount": amount}, auth=merchant)
    assert response.status_code == 422 and response.json["error"]["param"] == "amount"


def test_an_unknown_reason_or_field_is_refused(client, merchant):
    for body in ({"transaction": "tx", "reason": "because"}, {"transaction": "tx", "currency": "usd"}):
        assert client.post("/v1/refunds", json=body, auth=merchant).status_code == 422


def test_the_same_idempotency_key_replays_and_another_body_conflicts(client, merchant, kafka_settings):
    transaction_id = pay(client, merchant)
    headers = {"Idempotency-Key": "return-1"}
    first = client.post(
        "/v1/refunds", json={"transaction": transaction_id, "amount": "5.00"}, auth=merchant, headers=headers
    )
    again = client.post(
        "/v1/refunds", json={"transaction": transaction_id, "amount": "5.00"}, auth=merchant, headers=headers
    )
    other = client.post(
        "/v1/refunds", json={"transaction": transaction_id, "amount": "6.00"}, auth=merchant, headers=headers
    )
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 409 and other.json["error"]["code"] == "idempotency_key_reused"
    assert len(read_messages(kafka_settings, kafka_settings.topics.refunds)) == 1


def test_a_key_whose_refund_row_came_from_the_decision_replays(client, merchant, kafka_settings, monkeypatch):
    """The API stopped between the broker's ack and its pending row (here: the write fails); the results
    consumer created the row from the decision. The refund was promised: a retry replays it."""
    transaction_id = pay(client, merchant)
    services = client.application.extensions["gateway_api"]
    headers, body = {"Idempotency-Key": "return-2"}, {"transaction": transaction_id, "amount": "5.00"}
    with monkeypatch.context() as patched:
        patched.setattr(services.refunds, "add_pending", lambda refund: 1 / 0)
        first = client.post("/v1/refunds", json=body, auth=merchant, headers=headers)
    assert first.status_code == 202 and services.refunds.get(first.json["id"]) is None
    result = RefundResult(
        first.json["id"], transaction_id, merchant[0], "succeeded", "5.00", None, "5.00", rfc3339(utc_now())
    )
    services.refunds.apply_results([result])
    again = client.post("/v1/refunds", json=body, auth=merchant, headers=headers)
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == first.json["id"] and again.json["status"] == "pending"
    assert len(read_messages(kafka_settings, kafka_settings.topics.refunds)) == 1


def test_lists_refunds_newest_first_with_filters_and_a_cursor(client, merchant):
    first, second = pay(client, merchant), pay(client, merchant)
    ids = [
        client.post("/v1/refunds", json={"transaction": t, "amount": "1.00"}, auth=merchant).json["id"]
        for t in (first, second, first)
    ]
    page = client.get("/v1/refunds?limit=2", auth=merchant).json
    assert [r["id"] for r in page["data"]] == [ids[2], ids[1]] and page["has_more"]
    rest = client.get(f"/v1/refunds?limit=2&starting_after={ids[1]}", auth=merchant).json
    assert [r["id"] for r in rest["data"]] == [ids[0]] and not rest["has_more"]
    assert [r["id"] for r in client.get(f"/v1/refunds?transaction={first}", auth=merchant).json["data"]] == [
        ids[2],
        ids[0],
    ]
    assert client.get("/v1/refunds?status=succeeded", auth=merchant).json["data"] == []
    assert client.get("/v1/refunds?starting_after=re_nope", auth=merchant).status_code == 422
    assert client.get(f"/v1/refunds/{ids[0]}", auth=create_merchant(client, "Shop C")).status_code == 404


def test_results_make_refunds_final_and_amount_refunded_sums_the_succeeded_ones(client, merchant):
    transaction_id = pay(client, merchant)
    refunds = [
        client.post("/v1/refunds", json={"transaction": transaction_id, "amount": amount}, auth=merchant).json
        for amount in ("30.00", "80.00", "70.00")
    ]
    decide(client, refunds[0])
    decide(client, refunds[1], "failed", reason="amount_exceeds_refundable")
    decide(client, refunds[2])
    got = client.get(f"/v1/transactions/{transaction_id}", auth=merchant).json
    assert (got["status"], got["amount_refunded"]) == ("approved", "100.00")
    failed = client.get(f"/v1/refunds/{refunds[1]['id']}", auth=merchant).json
    assert (failed["status"], failed["failure_reason"]) == ("failed", "amount_exceeds_refundable")


def test_one_event_per_final_refund_even_when_two_appliers_race_and_results_are_redelivered(client, merchant):
    transaction_id = pay(client, merchant)
    refund = client.post("/v1/refunds", json={"transaction": transaction_id, "amount": "10.00"}, auth=merchant).json
    made_final, barrier = [], threading.Barrier(4)

    def applier():
        barrier.wait()
        made_final.extend(decide(client, refund))

    threads = [threading.Thread(target=applier) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    decide(client, refund)
    assert len(made_final) == 1
    with client.application.extensions["gateway_api"].engine.connect() as connection:
        events = connection.execute(text("SELECT type FROM gateway_events WHERE type LIKE 'refund.%'")).all()
    assert [row.type for row in events] == ["refund.succeeded"]


def test_a_result_for_a_refund_the_api_never_wrote_creates_its_row(client, merchant):
    transaction_id = pay(client, merchant)
    result = RefundResult("re_lost", transaction_id, merchant[0], "succeeded", "5.00", None, "5.00", rfc3339(utc_now()))
    assert len(client.application.extensions["gateway_api"].refunds.apply_results([result, result])) == 1
    assert client.get("/v1/refunds/re_lost", auth=merchant).json["status"] == "succeeded"
    assert client.get(f"/v1/transactions/{transaction_id}", auth=merchant).json["amount_refunded"] == "5.00"


def test_two_appliers_racing_on_either_database_make_a_refund_final_once(engine):
    from datetime import datetime

    from gateway_api.adapters.refunds_repository import SqlRefunds
    from gateway_api.domain.refunds import Refund, RefundRequest

    refunds = SqlRefunds(engine)
    refunds.add_pending(Refund.pending("re_race", "acct", RefundRequest("tx", None), datetime(2026, 12, 6)))
    result = RefundResult("re_race", "tx", "acct", "failed", None, "transaction_too_old", "0.00", rfc3339(utc_now()))
    made_final, barrier = [], threading.Barrier(4)

    def applier():
        barrier.wait()
        made_final.extend(SqlRefunds(engine).apply_results([result]))

    threads = [threading.Thread(target=applier) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [(r.status, r.failure_reason) for r in made_final] == [("failed", "transaction_too_old")]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM gateway_events")).scalar() == 1


def test_reports_and_their_csv_show_gross_refunded_and_net(client, merchant):
    transaction_id = pay(client, merchant)
    refund = client.post("/v1/refunds", json={"transaction": transaction_id, "amount": "30.25"}, auth=merchant).json
    decide(client, refund)
    [row] = client.get("/v1/reports?period=month", auth=merchant).json["data"]
    assert (row["approved_volume"], row["refunded"], row["net"]) == ("100.00", "30.25", "69.75")
    csv = client.get("/v1/reports?period=month&format=csv", auth=merchant).get_data(as_text=True).splitlines()
    assert csv[0].startswith("period,approved_count,approved_volume,rejected_count,pending_count,refunded,net,")
    assert ",100.00,0,0,30.25,69.75," in csv[1]


def test_a_refund_request_is_in_the_merchants_audit_trail_and_a_refused_one_too(client, merchant):
    refund = client.post(
        "/v1/refunds", json={"transaction": pay(client, merchant), "amount": "5.00"}, auth=merchant
    ).json
    client.post("/v1/refunds", json={"transaction": "tx-unknown"}, auth=merchant)
    entries = [
        entry
        for entry in client.get("/v1/audit_events", auth=merchant).json["data"]
        if entry["action"] == "refund.request"
    ]
    assert [(entry["object_id"], entry["outcome"]) for entry in entries] == [
        (None, "failed: not_found"),
        (refund["id"], "succeeded"),
    ]
