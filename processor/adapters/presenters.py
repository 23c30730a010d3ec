"""An outcome as the ``transactions_result`` message the rest of the gateway reads."""
from __future__ import annotations

from infra.clock import rfc3339
from infra.contracts import TransactionResult

from processor.domain.transaction import Outcome


def present(outcome: Outcome) -> TransactionResult:
    return TransactionResult(
        id=outcome.id,
        status=outcome.status,
        error_message=outcome.error_message,
        account_id=outcome.account_id,
        amount=None if outcome.amount is None else str(outcome.amount),
        card_brand=outcome.card_brand,
        card_last4=outcome.card_last4,
        created_at=None if outcome.created_at is None else rfc3339(outcome.created_at),
        processed_at=rfc3339(outcome.processed_at),
    )

