"""What the ledger answers about a payment's refunds, on SQLite and on MariaDB."""

from datetime import datetime
from decimal import Decimal

from infra.kernel.contracts import REFUND_SUCCEEDED, RefundResult
from infra.runtime.sql import PreparedForEach

from gateway_api.adapters.ledger_repository import SqlLedger
from gateway_api.adapters.refunds_repository import SqlRefunds
from gateway_api.adapters.tables import refunds
from gateway_api.domain.refunds import REFUND_PENDING, Refund, RefundRequest

T0 = datetime(2026, 12, 1, 10, 0, 0, 123456)


def refund_row(refund_id: str, transaction_id: str, cents: int, status: str = REFUND_SUCCEEDED) -> dict:
    return {
        "id": refund_id,
        "account_id": "acct_a",
        "transaction_id": transaction_id,
        "status": status,
        "amount_cents": cents,
        "created_at": T0,
    }


def test_amount_refunded_sums_the_succeeded_refunds_of_each_payment_asked_for(engine):
    # More payments than one statement holds, a payment asked twice, one never refunded.
    payments = [f"tx{n}" for n in range(PreparedForEach.CHUNK + 5)]
    rows = [refund_row(f"re{n}a", tx, 100 + n) for n, tx in enumerate(payments[:-1])]
    rows += [refund_row(f"re{n}b", tx, 5) for n, tx in enumerate(payments[:-1])]
    rows += [refund_row("re_pending", payments[0], 999, REFUND_PENDING), refund_row("re_other", "tx_other", 7)]
    rows += [refund_row("re_failed", payments[1], 999, "failed")]
    with engine.begin() as connection:
        connection.execute(refunds.insert(), rows)
    asked = [*payments, payments[3]]
    refunded = SqlRefunds(engine).amount_refunded(asked)
    expected = {tx: Decimal(100 + n + 5) / 100 for n, tx in enumerate(payments[:-1])} | {payments[-1]: Decimal("0.00")}
    assert refunded == expected
    assert all(str(amount) == f"{amount:.2f}" for amount in refunded.values())  # cents, as the API shows them
    assert SqlRefunds(engine).amount_refunded([]) == {}


HOSTILE_IDS = ["x" * 5000, "tx\u00e9\u4e2d", "\u0664\u0661\u0661\u0661", "\U0001f4b3" * 30, "", "' OR 1=1 --"]


def test_reads_of_a_hostile_transaction_id_find_nothing_instead_of_failing(engine):
    """The GET's prepared reads bind whatever id the URL carried: too long for the column, non-ASCII,
    another script's digits, emoji, empty or SQL-looking, none is found and none raises."""
    ledger, refunds_ledger = SqlLedger(engine), SqlRefunds(engine)
    for hostile in HOSTILE_IDS:
        assert ledger.get(hostile) is None
        assert refunds_ledger.amount_refunded([hostile]) == {hostile: Decimal("0.00")}


def test_a_pending_refund_written_after_its_decision_still_gives_the_row_its_reason_and_description(engine):
    """The merchant's reason and description travel only in the API's pending row, not in the result:
    when the decision is applied first (it can beat the API's pending write by a few ms), the pending
    write completes the row the decision created instead of being dropped with it."""
    ledger = SqlRefunds(engine)
    decision = RefundResult("re_1", "tx_1", "acct_a", REFUND_SUCCEEDED, "2.50", None, "2.50", "2026-12-01T10:00:01Z")
    ledger.apply_results([decision])
    request = RefundRequest("tx_1", Decimal("2.50"), "requested_by_customer", "broken strap")
    ledger.add_pending(Refund.pending("re_1", "acct_a", request, T0))
    refund = ledger.get("re_1")
    assert (refund.status, refund.amount, refund.reason, refund.description) == (
        REFUND_SUCCEEDED,
        Decimal("2.50"),
        "requested_by_customer",
        "broken strap",
    )
