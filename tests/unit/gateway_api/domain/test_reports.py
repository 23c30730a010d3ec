from datetime import date
from decimal import Decimal

from gateway_api.domain.reports import DailyTotal, roll_up
from gateway_api.domain.transactions import Card

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
        ("2026-01", 2, Decimal("10.00"), 0, 0),
        ("2026-02", 1, Decimal("0.50"), 3, 4),
    ]
    assert months[1].rejected_by_reason == {"credit card expired": 3}
    assert [y.period for y in roll_up(totals, "year")] == ["2026"]
    assert [d.period for d in roll_up(totals, "day")] == ["2026-01-31", "2026-02-01", "2026-02-02"]
