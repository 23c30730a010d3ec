from datetime import date, datetime
from decimal import Decimal

from infra.kernel.contracts import CARD_FIELDS, TRANSACTION_FIELDS

from gateway_api.domain.reports import DailyTotal, roll_up
from gateway_api.domain.transactions import Card, TransactionRequest, contract_message
from infra.kernel.clock import rfc3339

CARD = Card("4111111111111111", "Ada", 12, 2099, "987")


def test_rolls_daily_totals_up_by_period():
    totals = [
        DailyTotal(date(2026, 1, 31), "approved", "", 2, Decimal("10.00")),
        DailyTotal(date(2026, 2, 1), "approved", "", 1, Decimal("0.50")),
        DailyTotal(date(2026, 2, 1), "rejected", "credit card expired", 3, Decimal("9.00")),
        DailyTotal(date(2026, 2, 2), "pending", "", 4, Decimal("1.00")),
    ]
    months = roll_up(totals, "month")
    assert [(m.period, m.approved_count, m.approved_volume, m.rejected_count, m.pending_count) for m in months] == [
        ("2026-01", 2, Decimal("10.00"), 0, 0), ("2026-02", 1, Decimal("0.50"), 3, 4)]
    assert months[1].rejected_by_reason == {"credit card expired": 3}
    assert [y.period for y in roll_up(totals, "year")] == ["2026"]
    assert [d.period for d in roll_up(totals, "day")] == ["2026-01-31", "2026-02-01", "2026-02-02"]


def test_the_message_has_exactly_the_contract_fields_and_the_card_only_sealed():
    sealed = {"kid": "k1", "ct": "opaque"}
    message = contract_message("tx1", "acct_1", TransactionRequest(Decimal("10.50"), CARD), datetime(2026, 11, 23, 10),
                               sealed)
    assert tuple(message) == TRANSACTION_FIELDS
    assert message["amount"] == "10.50" and message["created_at"] == "2026-11-23T10:00:00.000000Z"
    assert message["card"] == sealed
    assert tuple(CARD.fields()) == CARD_FIELDS


def test_card_data_masks_itself():
    text = repr(TransactionRequest(Decimal("1.00"), CARD))
    assert "4111111111111111" not in text and "987" not in text and "1111" in text
    assert CARD.brand == "visa" and rfc3339(datetime(2026, 1, 1)) == "2026-01-01T00:00:00.000000Z"
