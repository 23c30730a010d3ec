"""Lenient decoding of `transactions` messages: an id means an outcome; no id means the DLQ.

Card fields are read the same leniently whether they arrive encrypted (today's contract) or in
clear (the old one, with ACCEPT_PLAINTEXT_CARDS=true): the coercion tests run on both.
"""

import json
from datetime import datetime
from decimal import Decimal

import pytest

from processor.entrypoints.card_data import CardDataReader
from processor.entrypoints.decoding import Unusable
from processor.entrypoints.decoding import decode as decode_with
from tests.support.transactions import TEST_CIPHER, encrypted

PLAINTEXT_READER = CardDataReader(TEST_CIPHER, accept_plaintext=True)
ENCRYPTED_READER = CardDataReader(TEST_CIPHER, accept_plaintext=False)

FULL = {
    "id": "tx-1",
    "account_id": "acct-1",
    "amount": "10.50",
    "credit_card_number": "4111111111111111",
    "credit_card_name": "Ada",
    "credit_card_expiration_month": 12,
    "credit_card_expiration_year": 2030,
    "credit_card_cvv": "123",
    "created_at": "2026-06-15T12:00:00.5+02:00",
}


@pytest.fixture(params=["encrypted", "plaintext"])
def contract(request):
    return request.param


def raw(contract="plaintext", **changes) -> bytes:
    message = FULL | changes
    return json.dumps(encrypted(message) if contract == "encrypted" else message).encode()


def decode(payload):
    return decode_with(payload, PLAINTEXT_READER)


def decode_as(contract, payload):
    return decode_with(payload, ENCRYPTED_READER if contract == "encrypted" else PLAINTEXT_READER)


def test_decodes_the_documented_fields(contract):
    item = decode_as(contract, raw(contract))
    assert (item.id, item.account_id, item.amount, item.card_number, item.cvv_length) == (
        "tx-1",
        "acct-1",
        Decimal("10.50"),
        "4111111111111111",
        3,
    )
    assert (item.card_name, item.expiration_month, item.expiration_year) == ("Ada", 12, 2030)
    assert item.created_at == datetime(2026, 6, 15, 10, 0, 0, 500000) and item.card_unreadable is None


@pytest.mark.parametrize(
    "changes, field, value",
    [
        ({"amount": 10.5}, "amount", Decimal("10.50")),
        ({"amount": "garbage"}, "amount", None),
        ({"credit_card_cvv": 123}, "cvv_length", 3),
        ({"credit_card_cvv": " 1234 "}, "cvv_length", 4),
        ({"credit_card_cvv": "12a"}, "cvv_length", None),
        ({"credit_card_cvv": ""}, "cvv_length", None),
        ({"credit_card_cvv": "\u0661\u0662\u0663"}, "cvv_length", None),
        ({"credit_card_cvv": {"x": 1}}, "cvv_length", None),
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
def test_coerces_fields_leniently(contract, changes, field, value):
    assert getattr(decode_as(contract, raw(contract, **changes)), field) == value


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
def test_unusable_messages_say_why(payload, reason):
    with pytest.raises(Unusable, match=f"^{reason}$"):
        decode(payload)


def test_json_that_orjson_refuses_still_decodes():
    item = decode(b'{"id": "big", "credit_card_number": 123456789012345678901234567890, "credit_card_name": "\\ud800"}')
    assert item.id == "big" and item.card_number == "123456789012345678901234567890"
    assert item.card_name == "?"


# -- card data: encrypted, refused in clear, or unreadable ----------------------------------------


def test_clear_card_fields_are_not_read_unless_plaintext_is_accepted():
    item = decode_with(raw("plaintext"), ENCRYPTED_READER)
    assert item.card_unreadable == "not encrypted"
    assert (item.card_number, item.cvv_length, item.card_name, item.expiration_month) == ("", None, "", None)
    assert (item.id, item.amount) == ("tx-1", Decimal("10.50"))  # the rest still identifies the transaction


def test_an_encrypted_card_wins_over_clear_fields_sent_alongside():
    message = encrypted(FULL) | {"credit_card_number": "5555555555554444", "credit_card_cvv": "999"}
    item = decode_with(json.dumps(message).encode(), PLAINTEXT_READER)
    assert (item.card_number, item.cvv_length) == ("4111111111111111", 3)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda m: m | {"id": "tx-2"},  # the ciphertext of another transaction
        lambda m: m | {"account_id": "acct-2"},
        lambda m: m | {"amount": "999.00"},
        lambda m: m | {"card": m["card"] | {"kid": "k-unknown"}},
        lambda m: m | {"card": m["card"] | {"ct": m["card"]["ct"][:-8] + "AAAAAAA="}},
        lambda m: m | {"card": "4111111111111111"},
        lambda m: m | {"card": {"kid": "test-1", "ct": 12}},
        lambda m: m | {"card": m["card"] | {"kid": "4111111111111111"}},  # never echoed into the log
        lambda m: m | {"card": m["card"] | {"kid": "x" * 500}},
    ],
)
def test_card_data_that_does_not_open_marks_the_transaction_and_counts_the_cause(tamper):
    reader = CardDataReader(TEST_CIPHER, accept_plaintext=True)
    item = decode_with(json.dumps(tamper(encrypted(FULL))).encode(), reader)
    assert item.card_unreadable == "undecryptable" and item.id in ("tx-1", "tx-2")
    assert (item.card_number, item.cvv_length, item.card_name) == ("", None, "")
    assert sum(reader.failures.values()) == 1
    assert not any(digits in cause for cause in reader.failures for digits in ("4111", "123"))


# -- the CVV: only its length travels (issue 23); messages sealed before still decode --------------


def sealed(card: dict) -> bytes:
    message = {"id": "tx-1", "account_id": "acct-1", "amount": "10.50"}
    return json.dumps(message | {"card": TEST_CIPHER.seal(card, "tx-1", "acct-1", "10.50")}).encode()


CARD = {"number": "4111111111111111", "name": "Ada", "expiration_month": 12, "expiration_year": 2030}


@pytest.mark.parametrize(
    "cvv_field, length",
    [
        ({"cvv_length": 3}, 3),
        ({"cvv_length": 4}, 4),  # as the API seals it today
        ({"cvv": "123"}, 3),
        ({"cvv": "1234"}, 4),
        ({"cvv": "12x"}, None),  # sealed before issue 23
        ({"cvv_length": "3"}, None),
        ({"cvv_length": True}, None),
        ({}, None),
    ],
)
def test_the_cvv_length_comes_from_today_s_field_or_from_an_older_message_s_value(cvv_field, length):
    assert decode_with(sealed(CARD | cvv_field), ENCRYPTED_READER).cvv_length == length
