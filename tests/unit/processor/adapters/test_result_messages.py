import json
from datetime import datetime
from decimal import Decimal

from processor.adapters.result_messages import present, result_messages
from processor.domain.transaction import Outcome


def test_presents_an_outcome_as_the_result_contract():
    outcome = Outcome(
        "tx-1",
        "acct",
        "rejected",
        "invalid credit card cvv",
        Decimal("10.50"),
        "visa",
        "1111",
        datetime(2026, 6, 15, 12, 0, 0, 5),
        datetime(2026, 6, 15, 12, 0, 1),
    )
    assert json.loads(present(outcome).to_json()) == {
        "id": "tx-1",
        "status": "rejected",
        "error_message": "invalid credit card cvv",
        "account_id": "acct",
        "amount": "10.50",
        "card_brand": "visa",
        "card_last4": "1111",
        "created_at": "2026-06-15T12:00:00.000005Z",
        "processed_at": "2026-06-15T12:00:01.000000Z",
    }


def test_published_bytes_are_the_contracts_json():
    import orjson

    outcome = Outcome("tx-é", "acct", "approved", "", Decimal("1.00"), None, None, None, datetime(2026, 6, 15))
    result = present(outcome)
    assert json.loads(orjson.dumps(vars(result))) == json.loads(result.to_json())


def test_result_messages_are_the_bytes_of_each_presented_result():
    import orjson

    first, second = datetime(2026, 6, 15, 12, 0, 1), datetime(2026, 6, 15, 12, 0, 2, 7)
    outcomes = [
        Outcome(
            "tx-1",
            "acct",
            "rejected",
            "invalid credit card cvv",
            Decimal("10.50"),
            "visa",
            "1111",
            datetime(2026, 6, 15, 12, 0, 0, 5),
            first,
        ),
        Outcome("tx-é", "", "approved", "", None, None, None, None, first),
        Outcome("tx-3", "acct", "approved", "", Decimal("1000.00"), "amex", "0005", None, second),
        Outcome("tx-4", "acct", "approved", "", Decimal("1.00"), "visa", "1111", None, first),
        # orjson leaves out a zero fraction: such a created_at is written as rfc3339 writes it.
        Outcome("tx-5", "acct", "approved", "", Decimal("1.00"), "visa", "1111", datetime(2026, 6, 15, 12), second),
        Outcome(
            "tx-6", "acct", "approved", "", Decimal("1.00"), "visa", "1111", datetime(1970, 1, 1, 0, 0, 0, 1), first
        ),
    ]
    assert list(result_messages(outcomes)) == [orjson.dumps(vars(present(outcome))) for outcome in outcomes]
    assert [json.loads(raw) for raw in result_messages(outcomes)] == [
        json.loads(present(outcome).to_json()) for outcome in outcomes
    ]
