"""Lenient decoding of `transactions` messages: an id means an outcome; no id means the DLQ."""
import json
from datetime import datetime
from decimal import Decimal

import pytest

from processor.adapters.decoding import Unidentifiable, decode

FULL = {
    "id": "tx-1", "account_id": "acct-1", "amount": "10.50", "credit_card_number": "4111111111111111",
    "credit_card_name": "Ada", "credit_card_expiration_month": 12, "credit_card_expiration_year": 2030,
    "credit_card_cvv": "123", "created_at": "2026-06-15T12:00:00.5+02:00",
}


def raw(**changes) -> bytes:
    return json.dumps(FULL | changes).encode()


def test_decodes_the_documented_fields():
    item = decode(raw())
    assert (item.id, item.account_id, item.amount, item.card_number, item.cvv) == (
        "tx-1", "acct-1", Decimal("10.50"), "4111111111111111", "123")
    assert item.created_at == datetime(2026, 6, 15, 10, 0, 0, 500000)


@pytest.mark.parametrize(
    "changes, field, value",
    [
        ({"amount": 10.5}, "amount", Decimal("10.50")),
        ({"amount": "garbage"}, "amount", None),
        ({"credit_card_cvv": 123}, "cvv", "123"),
        ({"credit_card_cvv": {"x": 1}}, "cvv", ""),
        ({"credit_card_expiration_month": "07"}, "expiration_month", 7),
        ({"credit_card_expiration_month": 7.0}, "expiration_month", 7),
        ({"credit_card_expiration_month": "July"}, "expiration_month", None),
        ({"credit_card_expiration_year": True}, "expiration_year", None),
        ({"credit_card_number": None}, "card_number", ""),
        ({"credit_card_number": 4111111111111111}, "card_number", "4111111111111111"),
        ({"credit_card_name": ["Ada"]}, "card_name", ""),
        ({"created_at": "yesterday"}, "created_at", None),
        ({"created_at": "2026-06-15T12:00:00"}, "created_at", datetime(2026, 6, 15, 12)),
        ({"created_at": "2026-06-15T12:00:00Z"}, "created_at", datetime(2026, 6, 15, 12)),
        ({"account_id": None}, "account_id", ""),
        ({"id": 42}, "id", "42"),
        ({"id": "  tx-2 "}, "id", "tx-2"),
    ],
)
def test_coerces_fields_leniently(changes, field, value):
    assert getattr(decode(raw(**changes)), field) == value


def test_a_message_with_only_an_id_still_decodes():
    item = decode(b'{"id": "lonely"}')
    assert item.id == "lonely" and item.card_number == "" and item.amount is None


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b"", "empty message"),
        (None, "empty message"),
        (b"not json {", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'"tx-1"', "not a JSON object"),
        (b'{"amount": "10.00"}', "no id"),
        (b'{"id": ""}', "no id"),
        (b'{"id": null}', "no id"),
        (b'{"id": {"nested": 1}}', "no id"),
        (json.dumps({"id": "x" * 101}).encode(), "id longer than 100 characters"),
        (b'{"id": "\\ud800"}', "id is not valid text"),
    ],
)
def test_unidentifiable_messages_say_why(payload, reason):
    with pytest.raises(Unidentifiable, match=f"^{reason}$"):
        decode(payload)


def test_json_that_orjson_refuses_still_decodes():
    item = decode(b'{"id": "big", "credit_card_number": 123456789012345678901234567890, "credit_card_name": "\\ud800"}')
    assert item.id == "big" and item.card_number == "123456789012345678901234567890"
    assert item.card_name == "?"
