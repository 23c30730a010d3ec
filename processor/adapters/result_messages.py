"""The messages the processor publishes: an outcome as ``transactions_result``, a refund decision as
``refunds_result``, as the rest of the gateway reads them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import orjson

from infra.kernel.clock import rfc3339
from infra.kernel.contracts import RefundResult, TransactionResult

from processor.domain.refunds import RefundOutcome
from processor.domain.transaction import Outcome


def present(outcome: Outcome) -> TransactionResult:
    created_at = None if outcome.created_at is None else rfc3339(outcome.created_at)
    return TransactionResult(**_fields(outcome, rfc3339(outcome.processed_at), created_at))


def result_messages(outcomes: Sequence[Outcome]) -> Iterator[bytes]:
    """The JSON of ``present(outcome).to_json()`` for each outcome, without the objects in between.

    A batch is decided at one moment, so its ``processed_at`` text is formatted once per moment
    (orjson on a dict: the same JSON as ``TransactionResult.to_json``, ~10x faster).
    """
    moment, text = None, ""
    for outcome in outcomes:
        if outcome.processed_at is not moment:
            moment, text = outcome.processed_at, rfc3339(outcome.processed_at)
        yield orjson.dumps(_fields(outcome, text, _written_by_orjson(outcome.created_at)), option=RFC3339_BY_ORJSON)


# With these options orjson writes a naive datetime as ``rfc3339`` does ("2026-06-15T12:00:00.000005Z"),
# in a sixth of its time (~0.5 us a result), except that it leaves out a zero fraction.
RFC3339_BY_ORJSON = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z


def _written_by_orjson(moment: datetime | None) -> datetime | str | None:
    """``moment`` as orjson writes it right: itself when naive with a fraction, else its rfc3339 text."""
    if moment is None or (moment.microsecond and moment.tzinfo is None):
        return moment
    return rfc3339(moment)


def _fields(outcome: Outcome, processed_at: str, created_at: datetime | str | None) -> dict:
    """The contract's fields, in its order (``created_at`` as :func:`_written_by_orjson` gives it)."""
    return {
        "id": outcome.id,
        "status": outcome.status,
        "error_message": outcome.error_message,
        "account_id": outcome.account_id,
        "amount": None if outcome.amount is None else str(outcome.amount),
        "card_brand": outcome.card_brand,
        "card_last4": outcome.card_last4,
        "created_at": created_at,
        "processed_at": processed_at,
    }


def present_refund(outcome: RefundOutcome) -> RefundResult:
    return RefundResult(
        id=outcome.id,
        transaction_id=outcome.transaction_id,
        account_id=outcome.account_id,
        status=outcome.status,
        amount=None if outcome.amount is None else str(outcome.amount),
        failure_reason=outcome.failure_reason,
        amount_refunded=str(outcome.amount_refunded),
        processed_at=rfc3339(outcome.processed_at),
    )
