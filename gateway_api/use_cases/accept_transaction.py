"""Accepting a transaction: durable on the broker before the merchant hears 202.

Order of effects and what a crash between them means (the choice, documented):

1. claim the idempotency key (if any) in the ledger DB: fixes the transaction id and created_at;
2. publish the contract message (card fields encrypted) and wait for the broker's ack (acks=all,
   idempotent producer);
3. insert the pending ledger row (insert-if-absent) and mark the key completed, in one DB transaction;
4. answer 202.

* Crash or timeout before 2 acks: no promise was made (no 202). A retry with the same key re-sends
  the same id; if the first copy did reach the broker after all, the processor deduplicates by id.
* Crash between 2 and 3: the message is on the broker, so it will be decided; the results consumer
  creates the ledger row from the result if the pending row was never written. A retry with the
  same key re-sends the same id (harmless) and completes the key.
* Step 3 fails (ledger down, a row it refuses): the answer is still 202, because the transaction is
  on the broker and will be decided; a 503 would tell a merchant without a key to pay again. The
  failure is logged and counted (``on_ledger_failure``), and the results consumer creates the row
  from the decision, as after a crash.
* Crash between 3 and 4: the retry replays the stored 202.

Nothing is written to the ledger before the ack, so a request answered 503 never leaves a pending
row that nobody will decide. Concurrent requests with one key all publish the same id, so the
processor sees one transaction and the ledger holds one row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from gateway_api.domain.accounts import SecretHasher
from gateway_api.domain.errors import IdempotencyConflict
from gateway_api.domain.idempotency import IdempotencyRecord, versioned_fingerprint
from gateway_api.domain.transactions import STATUS_PENDING, Transaction, TransactionRequest, contract_message
from gateway_api.use_cases.ports import CardSealer, IdempotencyStore, Ledger, TransactionPublisher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    transaction: Transaction
    replayed: bool = False


class AcceptTransaction:
    def __init__(
        self,
        ledger: Ledger,
        keys: IdempotencyStore,
        publisher: TransactionPublisher,
        sealer: CardSealer,
        hasher: SecretHasher,
        now: Callable[[], datetime],
        new_id: Callable[[], str],
        publish_timeout: float,
        idempotency_ttl: timedelta,
        on_ledger_failure: Callable[[], None] = lambda: None,
    ):
        self._ledger = ledger
        self._keys = keys
        self._publisher = publisher
        self._sealer = sealer
        self._hasher = hasher
        self._now = now
        self._new_id = new_id
        self._publish_timeout = publish_timeout
        self._ttl = idempotency_ttl
        self._on_ledger_failure = on_ledger_failure

    def __call__(self, account_id: str, request: TransactionRequest, key: str | None = None) -> Accepted:
        record = self._claim(account_id, request, key) if key else None
        if record is not None and record.completed:
            replayed = self._ledger.get(record.transaction_id)
            if replayed is not None:
                return Accepted(self._as_first_answered(replayed, record), replayed=True)
        transaction_id = record.transaction_id if record else self._new_id()
        created_at = record.created_at if record else self._now()
        sealed = self._sealer.seal(request.card.fields(), transaction_id, account_id, request.amount_text)
        message = contract_message(transaction_id, account_id, request, created_at, sealed)
        self._publisher.publish(account_id, message, self._publish_timeout)
        transaction = Transaction.pending(transaction_id, account_id, request, created_at)
        self._record_accepted(transaction, record)
        return Accepted(transaction)

    def _record_accepted(self, transaction: Transaction, record: IdempotencyRecord | None) -> None:
        """The pending row and the completed key: best effort once the broker has the transaction."""
        try:
            self._ledger.add_pending(transaction, answered_key=record)
        except Exception as exc:  # noqa: BLE001 - acknowledged means promised: never turn it into an error
            self._on_ledger_failure()
            # The class only: a driver's message may quote the row's values.
            log.error(
                "ledger write failed after the broker acknowledged; the result will create the row",
                extra={"transaction_id": transaction.id, "error_class": type(exc).__name__},
            )

    def _claim(self, account_id: str, request: TransactionRequest, key: str) -> IdempotencyRecord:
        now = self._now()
        fingerprint = versioned_fingerprint(self._hasher.digest(request.canonical()))
        candidate = IdempotencyRecord(account_id, key, fingerprint, self._new_id(), now)
        record = self._keys.claim(candidate, expired_before=now - self._ttl)
        if not record.matches(fingerprint):
            raise IdempotencyConflict(
                "This Idempotency-Key was already used with a different request body.", param="Idempotency-Key"
            )
        return record

    @staticmethod
    def _as_first_answered(transaction: Transaction, record: IdempotencyRecord) -> Transaction:
        """A replay repeats the first answer (pending), whatever the ledger says by now."""
        return replace(
            transaction, status=STATUS_PENDING, error_message="", processed_at=None, created_at=record.created_at
        )
