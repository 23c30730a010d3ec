"""An outcome as the ``transactions_result`` message the rest of the gateway reads."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import orjson

from infra.kernel.clock import rfc3339
from infra.kernel.contracts import TransactionResult

from processor.domain.transaction import Outcome


def present(outcome: Outcome) -> TransactionResult:
    return TransactionResult(**_fields(outcome, rfc3339(outcome.processed_at)))


def result_messages(outcomes: Sequence[Outcome]) -> Iterator[bytes]:
    """The JSON of ``present(outcome).to_json()`` for each outcome, without the objects in between.

    A batch is decided at one moment, so its ``processed_at`` text is formatted once per moment
    (orjson on a dict: the same JSON as ``TransactionResult.to_json``, ~10x faster).
    """
    moment, text = None, ""
    for outcome in outcomes:
        if outcome.processed_at is not moment:
            moment, text = outcome.processed_at, rfc3339(outcome.processed_at)
        yield orjson.dumps(_fields(outcome, text))


def _fields(outcome: Outcome, processed_at: str) -> dict:
    """The contract's fields, in its order."""
    return {
        "id": outcome.id,
        "status": outcome.status,
        "error_message": outcome.error_message,
        "account_id": outcome.account_id,
        "amount": None if outcome.amount is None else str(outcome.amount),
        "card_brand": outcome.card_brand,
        "card_last4": outcome.card_last4,
        "created_at": None if outcome.created_at is None else rfc3339(outcome.created_at),
        "processed_at": processed_at,
    }
