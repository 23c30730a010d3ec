"""Webhooks through the whole stack as processes: API -> broker -> processor -> results consumer
(outbox) -> dispatcher -> a real receiver per merchant."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from infra.kernel.contracts import TransactionResult
from infra.runtime.kafka import Record, build_acked_producer

from gateway_api.domain.webhook_signature import verify
from tests.e2e.helpers import basic_auth, card, final_transaction, pay
from tests.support import wait_until
from tests.support.receiver import Receiver

pytestmark = pytest.mark.slow


def endpoint(stack, merchant, url: str) -> dict:
    status, body, _ = stack.request(
        "POST", "/v1/webhook_endpoints", {"url": url, "enabled_events": ["*"]}, headers=basic_auth(merchant)
    )
    assert status == 201, body
    return body


def events_of(stack, merchant) -> list[dict]:
    return stack.request("GET", "/v1/events?limit=100", headers=basic_auth(merchant))[1]["data"]


def accepted(stack, merchant, amount, **card_fields) -> str:
    status, body, _ = pay(stack, merchant, amount, card(**card_fields))
    assert status == 202, body
    return body["id"]


def test_each_merchant_receives_its_own_signed_events_and_a_redelivered_result_makes_none(running_stack):
    stack = running_stack
    shop_a, shop_b = stack.create_merchant("Webhook shop A"), stack.create_merchant("Webhook shop B")
    with Receiver() as receiver_a, Receiver() as receiver_b:
        secret_a = endpoint(stack, shop_a, receiver_a.url)["secret"]
        secret_b = endpoint(stack, shop_b, receiver_b.url)["secret"]
        a_ids = [accepted(stack, shop_a, "25.00"), accepted(stack, shop_a, "1500.00")]
        b_ids = [accepted(stack, shop_b, "7.00")]
        wait_until(
            lambda: len(receiver_a.requests) >= 2 and len(receiver_b.requests) >= 1,
            20,
            message="both merchants' events delivered",
        )

        assert sorted(r.event["data"]["object"]["id"] for r in receiver_a.requests) == sorted(a_ids)
        assert [r.event["data"]["object"]["id"] for r in receiver_b.requests] == b_ids
        for request in receiver_a.requests:
            assert verify(request.body, request.headers["Gateway-Signature"], secret_a)
            assert not verify(request.body, request.headers["Gateway-Signature"], secret_b)
            transaction = request.event["data"]["object"]
            assert transaction == final_transaction(stack, shop_a, transaction["id"])
            assert request.event["type"] == f"transaction.{transaction['status']}"
        assert {e["type"] for e in events_of(stack, shop_a)} == {"transaction.approved", "transaction.rejected"}
        assert [e["data"]["object"]["id"] for e in events_of(stack, shop_b)] == b_ids
        print(f"event delivered {_latest_latency(receiver_a):.3f}s after the decision (processed_at)")

        redeliver(stack, shop_a, a_ids)
        marker = accepted(stack, shop_a, "9.99")  # decided after the replays: its event means they were applied
        wait_until(
            lambda: any(r.event["data"]["object"]["id"] == marker for r in receiver_a.requests),
            20,
            message="the marker's event",
        )
        time.sleep(0.5)
        assert len(events_of(stack, shop_a)) == 3 and len(receiver_a.requests) == 3
        assert len(receiver_b.requests) == 1


def redeliver(stack, merchant, transaction_ids: list[str]) -> None:
    """Publish the results of already decided transactions again, as a processor replay would."""
    settings = stack.kafka_settings()
    records = []
    for transaction_id in transaction_ids:
        t = final_transaction(stack, merchant, transaction_id)
        result = TransactionResult(
            t["id"],
            t["status"],
            t["error_message"],
            t["account_id"],
            t["amount"],
            t["card"]["brand"],
            t["card"]["last4"],
            t["created_at"],
            t["processed_at"],
        )
        records += [Record(settings.topics.results, result.to_json(), merchant["id"].encode())] * 2
    build_acked_producer(settings, "redelivery-test").send(records, timeout=10)


def _latest_latency(receiver: Receiver) -> float:
    request = receiver.requests[-1]
    processed = datetime.fromisoformat(request.event["data"]["object"]["processed_at"].replace("Z", "+00:00"))
    return request.at - processed.timestamp()
