"""Accepting a refund: the same order of effects as accepting a payment (``accept_transaction``).

1. the payment must be the merchant's (404 otherwise) and approved in the ledger (409 otherwise);
2. claim the idempotency key (if any): fixes the refund id and created_at;
3. publish the request on ``refunds`` and wait for the broker's ack;
4. insert the pending refund row (best effort: the results consumer creates the row from the
   decision if this fails);
5. answer 202. A key whose refund row exists replays that answer.

The processor decides; whatever happens between these steps, one refund id is decided once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from infra.kernel.contracts import STATUS_APPROVED

from gateway_api.domain.accounts import SecretHasher
from gateway_api.domain.errors import NotFound, TransactionNotApproved
from gateway_api.domain.refunds import REFUND_PENDING, Refund, RefundRequest, refund_message
from gateway_api.use_cases.idempotency import KeyClaims
from gateway_api.use_cases.ports import IdempotencyStore, Ledger, RefundLedger, RefundPublisher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AcceptedRefund:
    refund: Refund
    replayed: bool = False


class AcceptRefund:
    def __init__(
        self,
        ledger: Ledger,
        refunds: RefundLedger,
        keys: IdempotencyStore,
        publisher: RefundPublisher,
        hasher: SecretHasher,
        now: Callable[[], datetime],
        new_id: Callable[[], str],
        publish_timeout: float,
        idempotency_ttl: timedelta,
    ):
        self._ledger = ledger
        self._refunds = refunds
        self._publisher = publisher
        self._now = now
        self._new_id = new_id
        self._publish_timeout = publish_timeout
        self._claims = KeyClaims(keys, hasher, new_id, now, idempotency_ttl)

    def __call__(self, account_id: str, request: RefundRequest, key: str | None = None) -> AcceptedRefund:
        self._check_payment(account_id, request.transaction_id)
        record, held_before = self._claims(account_id, key, request.canonical())
        if record is not None and held_before:
            replayed = self._refunds.get(record.transaction_id)
            if replayed is not None:
                return AcceptedRefund(
                    replace(
                        replayed, status=REFUND_PENDING, failure_reason=None, processed_at=None, amount=request.amount
                    ),
                    replayed=True,
                )
        refund = Refund.pending(
            record.transaction_id if record else self._new_id(),
            account_id,
            request,
            record.created_at if record else self._now(),
        )
        self._publisher.publish_refund(account_id, refund_message(refund), self._publish_timeout)
        self._record_accepted(refund)
        return AcceptedRefund(refund)

    def _check_payment(self, account_id: str, transaction_id: str) -> None:
        payment = self._ledger.get(transaction_id)
        # Another merchant's payment is as absent as one that does not exist (404, not 403).
        if payment is None or payment.account_id != account_id:
            raise NotFound("No such transaction.", param="transaction")
        if payment.status != STATUS_APPROVED:
            raise TransactionNotApproved(
                f"The transaction is {payment.status}: only approved ones can be refunded.", param="transaction"
            )

    def _record_accepted(self, refund: Refund) -> None:
        try:
            self._refunds.add_pending(refund)
        except Exception as exc:  # noqa: BLE001 - acknowledged means promised: never turn it into an error
            log.error(
                "ledger write failed after the broker acknowledged; the result will create the refund",
                extra={"refund_id": refund.id, "error_class": type(exc).__name__},
            )
