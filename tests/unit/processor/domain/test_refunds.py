"""The refund rules, one by one."""

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from processor.domain.refunds import REFUND_RULES, Payment, RefundRequest, decide_refund

NOW = datetime(2026, 12, 6, 12, 0, 0)
PAID = Payment("tx-1", "acct-1", "approved", Decimal("100.00"), NOW - timedelta(days=1))


def request(amount="10.00", **changes) -> RefundRequest:
    fields = dict(
        id="re_1", transaction_id="tx-1", account_id="acct-1", amount=None if amount is None else Decimal(amount)
    )
    return RefundRequest(**(fields | changes))


@pytest.mark.parametrize(
    "refund, payment, reason",
    [
        (request(), PAID, None),
        (request("100.00"), PAID, None),
        (request(None), PAID, None),
        (request("0.00"), PAID, "invalid_amount"),
        (request(None, amount_is_valid=False), PAID, "invalid_amount"),
        (request(), None, "transaction_not_approved"),
        (request(), replace(PAID, status="rejected"), "transaction_not_approved"),
        (request(account_id="acct-2"), PAID, "transaction_not_approved"),
        (request(), replace(PAID, approved_at=NOW - timedelta(days=180)), None),
        (request(), replace(PAID, approved_at=NOW - timedelta(days=180, seconds=1)), "transaction_too_old"),
        (request("100.01"), PAID, "amount_exceeds_refundable"),
        (request("60.00"), replace(PAID, refunded=Decimal("40.01")), "amount_exceeds_refundable"),
        (request(None), replace(PAID, refunded=Decimal("100.00")), "amount_exceeds_refundable"),
    ],
)
def test_each_rule_names_its_failure_reason(refund, payment, reason):
    outcome = decide_refund(refund, payment, NOW)
    assert outcome.failure_reason == reason
    assert outcome.status == ("succeeded" if reason is None else "failed")


def test_the_rules_are_checked_in_a_documented_order():
    assert [rule.failure_reason for rule in REFUND_RULES] == [
        "invalid_amount",
        "transaction_not_approved",
        "transaction_too_old",
        "amount_exceeds_refundable",
    ]


def test_a_refund_without_amount_returns_whatever_is_left():
    outcome = decide_refund(request(None), replace(PAID, refunded=Decimal("30.25")), NOW)
    assert (outcome.amount, outcome.amount_refunded) == (Decimal("69.75"), Decimal("100.00"))
