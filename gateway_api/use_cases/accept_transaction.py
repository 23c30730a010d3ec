"""Accepting a transaction: durable on the broker before the merchant hears 202.

Order of effects and what a crash between them means (the choice, documented):

1. claim the idempotency key (if any) in the ledger DB: fixes the transaction id and created_at;
2. publish the contract message (card fields encrypted) and wait for the broker's ack (acks=all,
   idempotent producer);
3. insert the pending ledger row (insert-if-absent);
4. answer 202.

A key whose ledger row exists has been answered 202 (or would have been, had the process not
crashed): a later request with it replays that answer.

* Crash or timeout before 2 acks: no promise was made (no 202). A retry with the same key re-sends
  the same id; if the first copy did reach the broker after all, the processor deduplicates by id.
* Crash between 2 and 3: the message is on the broker, so it will be decided; the results consumer
  creates the ledger row from the result if the pending row was never written. A retry with the
  same key replays the 202 once that row exists, and until then re-sends the same id (harmless).
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
from gateway_api.domain.idempotency import IdempotencyRecord
from gateway_api.domain.transactions import STATUS_PENDING, Transaction, TransactionRequest, contract_message
from gateway_api.use_cases.idempotency import KeyClaims
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
        self._publisher = publisher
        self._sealer = sealer
        self._now = now
        self._new_id = new_id
        self._publish_timeout = publish_timeout
        self._claims = KeyClaims(keys, hasher, new_id, now, idempotency_ttl)
        self._on_ledger_failure = on_ledger_failure

    def __call__(self, account_id: str, request: TransactionRequest, key: str | None = None) -> Accepted:
        record, held_before = self._claims(account_id, key, request.canonical())
        if record is not None and held_before:
            replayed = self._ledger.get(record.transaction_id)
            if replayed is not None:
                return Accepted(self._as_first_answered(replayed, record), replayed=True)
        transaction_id = record.transaction_id if record else self._new_id()
        created_at = record.created_at if record else self._now()
        sealed = self._sealer.seal(request.card.fields(), transaction_id, account_id, request.amount_text)
        message = contract_message(transaction_id, account_id, request, created_at, sealed)
        self._publisher.publish(account_id, message, self._publish_timeout)
        transaction = Transaction.pending(transaction_id, account_id, request, created_at)
        self._record_accepted(transaction)
        return Accepted(transaction)

    def _record_accepted(self, transaction: Transaction) -> None:
        """The pending row: best effort once the broker has the transaction."""
        try:
            self._ledger.add_pending(transaction)
        except Exception as exc:  # noqa: BLE001 - acknowledged means promised: never turn it into an error
            self._on_ledger_failure()
            # The class only: a driver's message may quote the row's values.
            log.error(
                "ledger write failed after the broker acknowledged; the result will create the row",
                extra={"transaction_id": transaction.id, "error_class": type(exc).__name__},
            )

    @staticmethod
    def _as_first_answered(transaction: Transaction, record: IdempotencyRecord) -> Transaction:
        """A replay repeats the first answer (pending), whatever the ledger says by now."""
        return replace(
            transaction, status=STATUS_PENDING, error_message="", processed_at=None, created_at=record.created_at
        )
