"""Helpers for the API's integration tests."""
from __future__ import annotations

import json
import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from infra.kafka import consumer_config

ADMIN_TOKEN = "test-admin-token-0123456789-abcdefghij"  # 32+ characters: processes refuse shorter ones
TEST_CARD = "4111111111111111"
TEST_CVV = "987"


def card(**overrides) -> dict:
    return {"number": TEST_CARD, "name": "Ada Lovelace", "expiration_month": 12, "expiration_year": 2099,
            "cvv": TEST_CVV} | overrides


def transaction_body(**overrides) -> dict:
    return {"amount": "10.50", "credit_card": card(), "description": "order 42"} | overrides


ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def create_merchant(client, name: str = "Shop") -> tuple[str, str]:
    response = client.post("/v1/accounts", json={"name": name}, headers=ADMIN)
    assert response.status_code == 201, response.json
    return response.json["id"], response.json["secret"]


def read_messages(kafka_settings, topic: str, timeout: float = 10) -> list:
    """Every message in ``topic`` right now (acked writes are all there), read without a consumer group."""
    consumer = Consumer(consumer_config(kafka_settings, "test-reader", f"reader-{uuid.uuid4().hex}"))
    try:
        partitions = consumer.list_topics(topic, timeout=timeout).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)[1] for p in partitions}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p, end in ends.items() if end > 0])
        messages, deadline = [], time.monotonic() + timeout
        while sum(ends.values()) > len(messages) and time.monotonic() < deadline:
            messages += [m for m in consumer.consume(100, 0.2) if m.error() is None]
        return messages
    finally:
        consumer.close()


def decoded(messages) -> list[dict]:
    return [json.loads(m.value()) for m in messages]
