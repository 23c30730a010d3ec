"""Requests an end-to-end test makes as a merchant would."""

from __future__ import annotations

import base64

from infra.stack import Stack

from tests.support import utc_today, wait_until

NEXT_YEAR = utc_today().year + 1


def basic_auth(merchant: dict) -> dict:
    token = base64.b64encode(f"{merchant['id']}:{merchant['secret']}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def card(number="4111111111111111", month=12, year=NEXT_YEAR, cvv="731", name="Ada Lovelace") -> dict:
    return {"number": number, "name": name, "expiration_month": month, "expiration_year": year, "cvv": cvv}


def pay(stack: Stack, merchant: dict, amount, credit_card: dict | None = None, headers: dict | None = None):
    body = {"amount": amount, "credit_card": credit_card or card()}
    return stack.request("POST", "/v1/transactions", body, headers={**basic_auth(merchant), **(headers or {})})


def final_transaction(stack: Stack, merchant: dict, transaction_id: str, timeout: float = 10) -> dict:
    """The transaction as GET shows it once the processor has decided it."""

    def decided():
        status, body, _ = stack.request("GET", f"/v1/transactions/{transaction_id}", headers=basic_auth(merchant))
        return body if status == 200 and body["status"] != "pending" else None

    return wait_until(decided, timeout, interval=0.05, message=f"a final status for {transaction_id}")
