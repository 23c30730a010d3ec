"""A merchant's whole journey through the real stack: accept, decide, read back; nothing sensitive kept."""
from __future__ import annotations

import json
import re
import time
from datetime import date

import pytest
import sqlalchemy

from tests.e2e.helpers import basic_auth, card, final_transaction, pay
from tests.support.transactions import read_messages

pytestmark = pytest.mark.slow

AMEX = "378282246310005"
# Every card number and CVV this module sends: none may be stored or logged.
SENT_NUMBERS = ("4111111111111111", "5555555555554444", AMEX, "4111111111111112")
SENT_CVVS = ("731", "5719")
HOLDER = "Ada Lovelace"
LAST_YEAR = date.today().year - 1

DECISIONS = [
    ("10.50", card(), "approved", ""),
    ("1.00", card(number="5555555555554444"), "approved", ""),
    ("1000.00", card(number=AMEX, cvv="5719"), "approved", ""),
    (1000.01, card(), "rejected", "you dont have limit for this transaction"),
    ("5000", card(), "rejected", "you dont have limit for this transaction"),
    ("0.99", card(), "rejected", "the amount must be greater than 1"),
    ("10.00", card(number="4111111111111112"), "rejected", "invalid credit card number"),
    ("10.00", card(month=13), "rejected", "invalid expiration month"),
    ("10.00", card(year=LAST_YEAR), "rejected", "invalid expiration year"),
]


@pytest.fixture(scope="module")
def merchant(running_stack):
    return running_stack.create_merchant("E2E shop")


@pytest.mark.parametrize("amount, credit_card, status, message", DECISIONS)
def test_every_accepted_transaction_reaches_its_final_status(running_stack, merchant, amount, credit_card, status, message):
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
        ({"credit_card": card()}, "application/json", 422),
        ({"amount": "ten", "credit_card": card()}, "application/json", 422),
        ({"amount": "10.001", "credit_card": card()}, "application/json", 422),
        ({"amount": "10.00", "credit_card": {"number": "4111111111111111"}}, "application/json", 422),
        ("amount=10", "application/x-www-form-urlencoded", 415),
    ],
)
def test_bad_requests_get_a_json_error_and_create_nothing(running_stack, merchant, body, content_type, expected):
    before = _count(running_stack, merchant)
    status, error, _ = _raw_post(running_stack, merchant, body, content_type)
    assert status == expected, error
    assert set(error["error"]) >= {"type", "code", "message"}
    assert _count(running_stack, merchant) == before


def test_wrong_secret_is_refused(running_stack, merchant):
    status, error, headers = pay(running_stack, {"id": merchant["id"], "secret": "not-the-secret"}, "10.00")
    assert status == 401 and "WWW-Authenticate" in headers and error["error"]["type"]


def test_no_card_number_or_cvv_is_stored_or_logged(running_stack, merchant):
    """Runs after the journeys above (file order): scans every row of both databases and every log line."""
    assert _count(running_stack, merchant) >= len(DECISIONS)
    settings = running_stack.settings
    texts = [_all_rows(url) for url in (settings.processor_db, settings.gateway_db)]
    texts += [path.read_text(errors="replace") for path in running_stack.log_dir.glob("*.log")]
    assert texts[0] and texts[1], "both databases hold rows"
    for text in texts:
        for number in SENT_NUMBERS:
            assert number not in text
        for cvv in SENT_CVVS:
            assert not re.search(rf'"{cvv}"|[:=]\s*{cvv}(?![\d.])', text), f"CVV {cvv} leaked"


def test_the_transactions_topic_holds_no_readable_card_data(running_stack, merchant):
    """The raw `transactions` log, read with a plain consumer (no key), after the journeys above."""
    topic = running_stack.kafka_settings().topics.transactions
    values = [m.value().decode(errors="replace") for m in read_messages(running_stack.kafka_settings(), topic)]
    assert len(values) >= len(DECISIONS)
    # Digits with separators removed: "4111 1111-1111 1111" must not hide a number either.
    digits_only = re.sub(r"[\s-]", "", "\n".join(values))
    for number in SENT_NUMBERS:
        assert number not in digits_only, f"card number {number} readable on {topic}"
    for value in values:
        for cvv in SENT_CVVS:
            # As a JSON value or after a key: three or four digits alone may occur inside base64.
            assert not re.search(rf'"{cvv}"|[:=]\s*{cvv}(?![\d.])', value), f"CVV {cvv} readable on {topic}"
        assert HOLDER not in value and "credit_card" not in value
    # The API's messages (suites sharing the stack may add a garbage one) all carry the card sealed.
    sealed = [json.loads(value)["card"] for value in values if value.startswith('{"id"')]
    assert len(sealed) >= len(DECISIONS) and all(card["kid"] == "dev" for card in sealed)


def _raw_post(stack, merchant, body, content_type):
    import json
    import urllib.error
    import urllib.request

    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    request = urllib.request.Request(stack.settings.api_url + "/v1/transactions", data=data, method="POST",
                                     headers={"Content-Type": content_type, **basic_auth(merchant)})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def _count(stack, merchant) -> int:
    status, page, _ = stack.request("GET", "/v1/transactions?limit=100", headers=basic_auth(merchant))
    assert status == 200, page
    return len(page["data"])


def _all_rows(url: str) -> str:
    engine = sqlalchemy.create_engine(url)
    try:
        metadata = sqlalchemy.MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return "\n".join(
                repr(tuple(row)) for table in metadata.sorted_tables for row in connection.execute(table.select())
            )
    finally:
        engine.dispose()
