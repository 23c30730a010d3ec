"""Helpers for the API's integration tests."""

from __future__ import annotations

import json

ADMIN_TOKEN = "test-admin-token-0123456789-abcdefghij"  # 32+ characters: processes refuse shorter ones
WEBHOOK_SECRETS_KEY = "dGVzdC13ZWJob29rLXNlY3JldHMta2V5LTAxMjM0NTY="  # base64 of 32 test bytes
TEST_CARD = "4111111111111111"
TEST_CVV = "987"


def card(**overrides) -> dict:
    return {
        "number": TEST_CARD,
        "name": "Ada Lovelace",
        "expiration_month": 12,
        "expiration_year": 2099,
        "cvv": TEST_CVV,
    } | overrides


def transaction_body(**overrides) -> dict:
    return {"amount": "10.50", "credit_card": card(), "description": "order 42"} | overrides


ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def create_merchant(client, name: str = "Shop") -> tuple[str, str]:
    response = client.post("/v1/accounts", json={"name": name}, headers=ADMIN)
    assert response.status_code == 201, response.json
    return response.json["id"], response.json["secret"]


def decoded(messages) -> list[dict]:
    return [json.loads(m.value()) for m in messages]
