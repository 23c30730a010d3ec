"""The live page reads one shape: a result streamed live has the keys of the API's transaction JSON
(what /api/recent and /api/transactions relay), with the card nested the same way."""

from datetime import datetime
from decimal import Decimal

from infra.kernel.contracts import RefundResult, TransactionResult

from gateway_api.adapters.resource_shapes import refund, transaction
from gateway_api.domain.refunds import Refund
from gateway_api.domain.transactions import Transaction
from panel.entrypoints.refund_results import refund_to_event
from panel.entrypoints.results_reader import result_to_event

RESULT = TransactionResult(
    id="t1",
    status="rejected",
    error_message="invalid credit card cvv",
    account_id="acct_1",
    amount="10.50",
    card_brand="visa",
    card_last4="4242",
    created_at="2026-11-23T10:00:00.000000Z",
    processed_at="2026-11-23T10:00:00.050000Z",
)
LEDGER_ROW = Transaction(
    "t1",
    "acct_1",
    "rejected",
    Decimal("10.50"),
    "visa",
    "4242",
    datetime(2026, 11, 23, 10),
    None,
    "invalid credit card cvv",
    datetime(2026, 11, 23, 10, 0, 0, 50000),
)


def test_a_live_event_has_the_keys_of_the_apis_transaction():
    assert result_to_event(RESULT).keys() == transaction(LEDGER_ROW).keys()


def test_a_live_event_says_what_the_ledger_says_about_the_same_transaction():
    event, row = result_to_event(RESULT), transaction(LEDGER_ROW)
    assert {key: event[key] for key in row if key != "description"} == {
        key: row[key] for key in row if key != "description"
    }


REFUND = RefundResult(
    id="re_1",
    transaction_id="t1",
    account_id="acct_1",
    status="failed",
    amount="30.00",
    failure_reason="amount_exceeds_refundable",
    amount_refunded="10.00",
    processed_at="2026-11-23T10:00:00.050000Z",
)
LEDGER_REFUND = Refund(
    "re_1",
    "acct_1",
    "t1",
    "failed",
    Decimal("30.00"),
    None,
    datetime(2026, 11, 23, 10),
    failure_reason="amount_exceeds_refundable",
    processed_at=datetime(2026, 11, 23, 10, 0, 0, 50000),
)


def test_a_live_refund_row_says_what_the_api_says_about_the_same_refund():
    event, row = refund_to_event(REFUND), refund(LEDGER_REFUND)
    shared = ("id", "object", "status", "transaction", "amount", "failure_reason", "processed_at")
    assert {key: event[key] for key in shared} == {key: row[key] for key in shared}
    assert (event["account_id"], event["amount_refunded"]) == ("acct_1", "10.00")
