"""The accept use case with fakes of its ports: ordering of effects and idempotency rules."""

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest

from gateway_api.domain.accounts import SecretHasher
from gateway_api.domain.errors import BrokerUnavailable, IdempotencyConflict
from gateway_api.domain.idempotency import IdempotencyRecord
from gateway_api.domain.transactions import STATUS_PENDING, Card, Transaction, TransactionRequest
from gateway_api.use_cases.accept_transaction import AcceptTransaction
from gateway_api.use_cases.ports import CardSealer, IdempotencyStore, Ledger, TransactionPublisher
from gateway_api.use_cases.purge_idempotency_keys import PurgeExpiredKeys

NOW = datetime(2026, 11, 23, 10, 0)
REQUEST = TransactionRequest(Decimal("10.50"), Card("4111111111111111", "Ada", 12, 2099, "987"))


class FakeKeys(IdempotencyStore):
    def __init__(self, effects: list | None = None):
        self.records: dict[tuple[str, str], IdempotencyRecord] = {}
        self.effects = [] if effects is None else effects  # shared by the fakes of one test: the order of effects

    def claim(self, candidate, expired_before):
        self.effects.append(("claim", candidate.key))
        key = (candidate.account_id, candidate.key)
        held = self.records.get(key)
        if held is None or held.created_at < expired_before:
            self.records[key] = candidate
        return self.records[key]

    def purge(self, expired_before):
        expired = [key for key, record in self.records.items() if record.created_at < expired_before]
        for key in expired:
            del self.records[key]
        return len(expired)


class FakeLedger(Ledger):
    def __init__(self, keys: FakeKeys):
        self.rows: dict[str, Transaction] = {}
        self.keys = keys
        self.effects = keys.effects

    def add_pending(self, transaction):
        self.effects.append(("add_pending", transaction.id))
        self.rows.setdefault(transaction.id, transaction)

    def get(self, transaction_id):
        return self.rows.get(transaction_id)

    def page(self, query):
        raise NotImplementedError

    def apply_results(self, results):
        for r in results:
            row = self.rows[r.id]
            if row.status == STATUS_PENDING:  # the ledger's rule (SqlLedger): a final status is never undone
                self.rows[r.id] = replace(row, status=r.status, error_message=r.error_message, processed_at=NOW)

    def daily_totals(self, account_id, first, last):
        raise NotImplementedError

    def oldest_pending_created_at(self):
        raise NotImplementedError


class FakeSealer(CardSealer):
    """Records what it was asked to seal; the "ciphertext" names the transaction it is bound to."""

    def __init__(self):
        self.sealed = []

    def seal(self, card_fields, transaction_id, account_id, amount):
        self.sealed.append((card_fields, transaction_id, account_id, amount))
        return {"kid": "fake", "ct": f"sealed-for-{transaction_id}"}


class FakePublisher(TransactionPublisher):
    def __init__(self, effects: list | None = None):
        self.sent, self.down = [], False
        self.effects = [] if effects is None else effects

    def publish(self, key, message, timeout):
        if self.down:
            raise BrokerUnavailable("down")
        self.effects.append(("publish", message["id"]))
        self.sent.append((key, message))


@pytest.fixture
def parts():
    ids, effects = count(1), []  # every fake appends its effect here, in the order they happen
    keys = FakeKeys(effects)
    ledger, publisher, clock = FakeLedger(keys), FakePublisher(effects), [NOW]
    accept = AcceptTransaction(
        ledger,
        keys,
        publisher,
        FakeSealer(),
        SecretHasher("pepper"),
        lambda: clock[0],
        lambda: f"tx{next(ids)}",
        5.0,
        timedelta(hours=24),
    )
    return accept, ledger, publisher, clock


@pytest.fixture
def sealing():
    ids = count(1)
    publisher, sealer, keys = FakePublisher(), FakeSealer(), FakeKeys()
    accept = AcceptTransaction(
        FakeLedger(keys),
        keys,
        publisher,
        sealer,
        SecretHasher("pepper"),
        lambda: NOW,
        lambda: f"tx{next(ids)}",
        5.0,
        timedelta(hours=24),
    )
    return accept, publisher, sealer, keys


def test_publishes_before_writing_the_pending_row(parts):
    accept, ledger, publisher, _ = parts
    accepted = accept("acct_1", REQUEST)
    assert publisher.sent[0][0] == "acct_1" and publisher.sent[0][1]["id"] == accepted.transaction.id
    assert ledger.get(accepted.transaction.id).status == "pending"
    assert ledger.effects == [("publish", "tx1"), ("add_pending", "tx1")]


def test_with_a_key_the_effects_come_in_the_documented_order(parts):
    accept, ledger, _, _ = parts
    accept("acct_1", REQUEST, key="order-1")
    assert ledger.effects == [("claim", "order-1"), ("publish", "tx1"), ("add_pending", "tx1")]


def test_a_failed_publish_leaves_no_ledger_row_and_a_retry_reuses_the_id(parts):
    accept, ledger, publisher, _ = parts
    publisher.down = True
    with pytest.raises(BrokerUnavailable):
        accept("acct_1", REQUEST, key="k")
    assert ledger.rows == {}
    publisher.down = False
    retried = accept("acct_1", REQUEST, key="k")
    assert retried.transaction.id == "tx1" and not retried.replayed


def test_an_answered_key_replays_without_publishing_again(parts):
    accept, _, publisher, _ = parts
    first = accept("acct_1", REQUEST, key="k")
    again = accept("acct_1", REQUEST, key="k")
    assert again.replayed and again.transaction == first.transaction and len(publisher.sent) == 1


def test_a_key_whose_row_came_from_the_decision_replays(parts):
    """The API stopped between the broker's ack and its pending row: the results consumer created the
    row from the decision. The transaction was promised (it is on the broker): a retry replays it."""

    accept, ledger, publisher, _ = parts
    ledger.add_pending = lambda transaction: None  # the write that never happened
    first = accept("acct_1", REQUEST, key="k").transaction
    del ledger.add_pending
    ledger.rows[first.id] = replace(first, status="approved", processed_at=NOW)  # as the results consumer wrote it
    again = accept("acct_1", REQUEST, key="k")
    assert again.replayed and again.transaction == first and len(publisher.sent) == 1


def test_another_body_under_the_same_key_conflicts(parts):
    accept, *_ = parts
    accept("acct_1", REQUEST, key="k")
    with pytest.raises(IdempotencyConflict):
        accept("acct_1", TransactionRequest(Decimal("10.51"), REQUEST.card), key="k")


def test_a_replay_shows_the_first_answer_even_after_the_decision(parts):
    from infra.kernel.contracts import TransactionResult

    accept, ledger, _, _ = parts
    first = accept("acct_1", REQUEST, key="k").transaction
    ledger.apply_results([TransactionResult(first.id, "approved", "", "acct_1", "10.50", "visa", "1111", None, "")])
    assert accept("acct_1", REQUEST, key="k").transaction == first


def test_a_key_expires_after_its_ttl(parts):
    accept, _, _, clock = parts
    first = accept("acct_1", REQUEST, key="k").transaction
    clock[0] = NOW + timedelta(hours=24, seconds=1)
    assert accept("acct_1", REQUEST, key="k").transaction.id != first.id


def test_the_card_travels_only_sealed_for_its_transaction(sealing):
    accept, publisher, sealer, _ = sealing
    accepted = accept("acct_1", REQUEST)
    ((_, message),) = publisher.sent
    assert message["card"] == {"kid": "fake", "ct": f"sealed-for-{accepted.transaction.id}"}
    assert "4111111111111111" not in str(message) and "987" not in str(message) and "Ada" not in str(message)
    assert sealer.sealed == [
        (
            {
                "number": "4111111111111111",
                "name": "Ada",
                "expiration_month": 12,
                "expiration_year": 2099,
                "cvv_length": 3,
            },
            accepted.transaction.id,
            "acct_1",
            "10.50",
        )
    ]


def test_the_fingerprint_covers_only_what_the_ledger_keeps():
    canonical = REQUEST.canonical()
    assert canonical.split("\x1f") == ["10.50", "visa", "1111", ""]
    assert "987" not in canonical and "4111111111111111" not in canonical and "Ada" not in canonical


def test_the_stored_fingerprint_is_versioned_and_holds_no_card_data(sealing):
    accept, _, _, keys = sealing
    accept("acct_1", REQUEST, key="k")
    (record,) = keys.records.values()
    assert record.fingerprint.startswith("v2:")
    assert record.fingerprint == "v2:" + SecretHasher("pepper").digest("10.50\x1fvisa\x1f1111\x1f")


def test_same_key_with_another_cvv_or_expiry_replays_since_those_are_not_kept(parts):
    accept, *_ = parts
    first = accept("acct_1", REQUEST, key="k")
    other_card = Card("4111111111111111", "Someone Else", 1, 2098, "123")
    again = accept("acct_1", TransactionRequest(Decimal("10.50"), other_card), key="k")
    assert again.replayed and again.transaction.id == first.transaction.id


@pytest.mark.parametrize(
    "changed",
    [
        TransactionRequest(Decimal("10.50"), Card("5555555555554444", "Ada", 12, 2099, "987")),  # brand and last 4
        TransactionRequest(Decimal("10.50"), Card("4012888888881881", "Ada", 12, 2099, "987")),  # last 4
        TransactionRequest(Decimal("10.50"), REQUEST.card, description="another order"),
    ],
)
def test_same_key_with_another_amount_card_or_description_conflicts(parts, changed):
    accept, *_ = parts
    accept("acct_1", REQUEST, key="k")
    with pytest.raises(IdempotencyConflict):
        accept("acct_1", changed, key="k")


def test_a_key_fingerprinted_before_v2_replays_whatever_the_body(parts):
    """Migration 0003 erased the old fingerprints (they covered number and CVV): nothing to compare."""
    accept, ledger, _, _ = parts
    keys = ledger.keys
    first = accept("acct_1", REQUEST, key="k")
    record = keys.records[("acct_1", "k")]
    keys.records[("acct_1", "k")] = IdempotencyRecord("acct_1", "k", "", record.transaction_id, record.created_at)
    again = accept("acct_1", TransactionRequest(Decimal("99.00"), REQUEST.card), key="k")
    assert again.replayed and again.transaction.id == first.transaction.id


def test_the_purge_deletes_exactly_the_keys_the_api_would_no_longer_replay(parts):
    accept, ledger, _, clock = parts
    keys = ledger.keys
    accept("acct_1", REQUEST, key="old")
    clock[0] = NOW + timedelta(hours=1)
    accept("acct_1", REQUEST, key="young")
    purge = PurgeExpiredKeys(keys, lambda: NOW + timedelta(hours=24, microseconds=1), timedelta(hours=24))
    assert purge() == 1
    assert set(keys.records) == {("acct_1", "young")}


class BrokenLedger(FakeLedger):
    def __init__(self, keys):
        super().__init__(keys)
        self.broken = True

    def add_pending(self, transaction):
        if self.broken:
            raise ConnectionError("ledger down")
        super().add_pending(transaction)


def test_a_ledger_failure_after_the_ack_is_counted_not_raised_and_a_retry_resends_the_same_id():
    keys = FakeKeys()
    ledger, publisher, failures = BrokenLedger(keys), FakePublisher(), []
    accept = AcceptTransaction(
        ledger,
        keys,
        publisher,
        FakeSealer(),
        SecretHasher("pepper"),
        lambda: NOW,
        lambda: "tx1",
        5.0,
        timedelta(hours=24),
        on_ledger_failure=lambda: failures.append(1),
    )
    accepted = accept("acct_1", REQUEST, key="k")
    assert accepted.transaction.status == "pending" and failures == [1] and ledger.rows == {}
    ledger.broken = False
    retried = accept("acct_1", REQUEST, key="k")
    assert retried.transaction.id == "tx1" and not retried.replayed
    assert [message["id"] for _, message in publisher.sent] == ["tx1", "tx1"] and ledger.get("tx1")
