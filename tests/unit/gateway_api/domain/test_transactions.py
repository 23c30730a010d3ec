"""The transaction of the API's domain: its contract message and the card data that masks itself."""

from datetime import datetime
from decimal import Decimal

from infra.kernel.clock import rfc3339
from infra.kernel.contracts import CARD_FIELDS, TRANSACTION_FIELDS

from gateway_api.domain.transactions import Card, TransactionRequest, contract_message

CARD = Card("4111111111111111", "Ada", 12, 2099, "987")


def test_the_message_has_exactly_the_contract_fields_and_the_card_only_sealed():
    sealed = {"kid": "k1", "ct": "opaque"}
    message = contract_message(
        "tx1", "acct_1", TransactionRequest(Decimal("10.50"), CARD), datetime(2026, 11, 23, 10), sealed
    )
    assert tuple(message) == TRANSACTION_FIELDS
    assert message["amount"] == "10.50" and message["created_at"] == "2026-11-23T10:00:00.000000Z"
    assert message["card"] == sealed
    assert tuple(CARD.fields()) == CARD_FIELDS


def test_card_data_masks_itself():
    text = repr(TransactionRequest(Decimal("1.00"), CARD))
    assert "4111111111111111" not in text and "987" not in text and "1111" in text
    assert CARD.brand == "visa" and rfc3339(datetime(2026, 1, 1)) == "2026-01-01T00:00:00.000000Z"
