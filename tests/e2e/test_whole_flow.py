"""A merchant's whole journey through the real stack: accept, decide, read back (card data: test_card_data.py)."""

from __future__ import annotations

import time

import pytest

from tests.e2e.helpers import basic_auth, card, final_transaction, pay
from tests.support import utc_today

pytestmark = pytest.mark.slow

AMEX = "378282246310005"
LAST_YEAR = utc_today().year - 1

DECISIONS = [
    ("10.50", card(), "approved", ""),
    ("1.00", card(number="5555555555554444"), "approved", ""),
    ("1000.00", card(number=AMEX, cvv="5719"), "approved", ""),
    (1000.01, card(), "rejected", "you dont have limit for this transaction"),
    ("5000", card(), "rejected", "you dont have limit for this transaction"),
    ("0.99", card(), "rejected", "the amount must be greater than 1"),
    ("10.00", card(number="4111111111111112"), "rejected", "invalid credit card number"),
    ("10.00", card(number=AMEX, cvv="571"), "rejected", "invalid credit card cvv"),
    ("10.00", card(name=" "), "rejected", "invalid credit card name"),
    ("10.00", card(year=LAST_YEAR), "rejected", "invalid expiration year"),
]


@pytest.fixture(scope="module")
def merchant(running_stack):
    return running_stack.create_merchant("E2E shop")


@pytest.mark.parametrize("amount, credit_card, status, message", DECISIONS)
def test_every_accepted_transaction_reaches_its_final_status(
    running_stack, merchant, amount, credit_card, status, message
):
    code, accepted, headers = pay(running_stack, merchant, amount, credit_card)
    assert code == 202, accepted
    assert accepted["status"] == "pending" and headers["Location"].endswith(accepted["id"])

    started = time.monotonic()
    decided = final_transaction(running_stack, merchant, accepted["id"], timeout=10)
    print(f"{amount} -> {decided['status']} visible through GET after {time.monotonic() - started:.3f}s")
    assert (decided["status"], decided["error_message"] or "") == (status, message)
    assert decided["card"]["last4"] == credit_card["number"][-4:]


@pytest.mark.parametrize(
    "body, content_type, expected",
    [
        ({"credit_card": card()}, "application/json", (422, "parameter_missing", "amount")),
        ({"amount": "ten", "credit_card": card()}, "application/json", (422, "parameter_invalid", "amount")),
        ({"amount": "10.001", "credit_card": card()}, "application/json", (422, "parameter_invalid", "amount")),
        (
            {"amount": "10.00", "credit_card": {"number": "4111111111111111"}},
            "application/json",
            (422, "parameter_missing", "credit_card.cvv"),
        ),
        (
            {"amount": "10.00", "credit_card": card(month=13)},
            "application/json",
            (422, "parameter_invalid", "credit_card.expiration_month"),
        ),
        ("amount=10", "application/x-www-form-urlencoded", (415, "unsupported_media_type", None)),
    ],
)
def test_bad_requests_get_a_json_error_and_create_nothing(running_stack, merchant, body, content_type, expected):
    before = _count(running_stack, merchant)
    status, error, _ = _raw_post(running_stack, merchant, body, content_type)
    assert (status, error["error"]["code"], error["error"]["param"]) == expected, error
    assert error["error"]["type"] == "invalid_request_error" and error["error"]["message"]
    assert _count(running_stack, merchant) == before


def test_wrong_secret_is_refused(running_stack, merchant):
    status, error, headers = pay(running_stack, {"id": merchant["id"], "secret": "not-the-secret"}, "10.00")
    assert status == 401 and "WWW-Authenticate" in headers and error["error"]["type"]


def _raw_post(stack, merchant, body, content_type):
    import json
    import urllib.error
    import urllib.request

    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    request = urllib.request.Request(
        stack.settings.api_url + "/v1/transactions",
        data=data,
        method="POST",
        headers={"Content-Type": content_type, **basic_auth(merchant)},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def _count(stack, merchant) -> int:
    status, page, _ = stack.request("GET", "/v1/transactions?limit=100", headers=basic_auth(merchant))
    assert status == 200, page
    return len(page["data"])
