"""The ledger repository on SQLite and MariaDB: one code path, both backends."""

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from infra.kernel.contracts import TransactionResult
from infra.runtime import group_commit
from infra.runtime.db import build_engine
from infra.runtime.group_commit import Batch, GroupCommit
from infra.runtime.sql import PreparedForEach

from gateway_api.adapters.idempotency_repository import SqlIdempotencyStore, holders_of
from gateway_api.adapters.ledger_repository import SqlLedger
from gateway_api.adapters.tables import metadata
from gateway_api.domain.idempotency import IdempotencyRecord
from gateway_api.domain.transactions import Card, Transaction, TransactionRequest
from gateway_api.use_cases.ports import ListQuery
from tests.support import wait_until
from tests.support.concurrency import most_in_flight, race

T0 = datetime(2026, 11, 23, 10, 0, 0, 123456)
RACERS = 8
REQUEST = TransactionRequest(Decimal("10.50"), Card("4111111111111111", "Ada", 12, 2099, "987"), "order")


def pending(id_: str, at: datetime = T0, account: str = "acct_a", amount: str = "10.50") -> Transaction:
    request = TransactionRequest(Decimal(amount), REQUEST.card)
    return Transaction.pending(id_, account, request, at)


def result(
    id_: str,
    status: str = "approved",
    reason: str = "",
    account: str = "acct_a",
    amount: str = "10.50",
    at: datetime = T0,
) -> TransactionResult:
    return TransactionResult(
        id_,
        status,
        reason,
        account,
        amount,
        "visa",
        "1111",
        at.isoformat() + "Z",
        (at + timedelta(seconds=1)).isoformat() + "+00:00",
    )


def test_migrations_use_their_own_version_table(engine):
    from sqlalchemy import inspect

    tables = set(inspect(engine).get_table_names())
    assert {"gateway_alembic_version", "gateway_transactions", "gateway_accounts"} <= tables
    assert "alembic_version" not in tables


def test_stores_brand_and_last4_but_never_the_card(ledger, engine):
    ledger.add_pending(pending("t1"))
    stored = ledger.get("t1")
    assert (stored.status, stored.amount, stored.card_brand, stored.card_last4, stored.created_at) == (
        "pending",
        Decimal("10.50"),
        "visa",
        "1111",
        T0,
    )
    with engine.connect() as connection:
        row = connection.exec_driver_sql("SELECT * FROM gateway_transactions").one()
    assert "4111111111111111" not in str(tuple(row)) and "987" not in str(tuple(row))


def test_a_result_decides_the_pending_row(ledger):
    ledger.add_pending(pending("t1"))
    ledger.apply_results([result("t1", "rejected", "you dont have limit for this transaction")])
    decided = ledger.get("t1")
    assert (decided.status, decided.error_message) == ("rejected", "you dont have limit for this transaction")
    assert decided.processed_at == T0 + timedelta(seconds=1)


def test_a_result_before_the_pending_row_creates_it_and_pending_never_overwrites_it(ledger):
    ledger.apply_results([result("t1")])
    ledger.add_pending(pending("t1"))
    decided = ledger.get("t1")
    assert (decided.status, decided.amount, decided.card_last4, decided.created_at) == (
        "approved",
        Decimal("10.50"),
        "1111",
        T0,
    )


def test_a_pending_row_written_after_its_decision_still_gives_the_row_its_description(ledger):
    """The merchant's description travels only in the API's pending row, not in the result: when the
    decision is applied first (the broker acknowledged, the processor decided and the results consumer
    wrote in the few ms before the API's pending commit; a fresh-clone CI run saw it), the pending write
    completes the row the decision created instead of being dropped with it."""
    ledger.apply_results([result("t1", "rejected", "you dont have limit for this transaction")])
    ledger.add_pending(Transaction.pending("t1", "acct_a", REQUEST, T0))
    decided = ledger.get("t1")
    assert (decided.status, decided.error_message, decided.description) == (
        "rejected",
        "you dont have limit for this transaction",
        "order",
    )
    ledger.add_pending(Transaction.pending("t1", "acct_a", replace(REQUEST, description="other"), T0))
    assert ledger.get("t1").description == "order"  # a description once written is the row's


def test_a_creation_time_out_of_range_in_utc_reads_as_unknown_instead_of_failing_the_batch(ledger):
    """Year 1 at +01:00 is valid RFC 3339 that no datetime holds once moved to UTC: the ledger takes
    the decision time instead of raising (a raise would retry the batch, and block the partition, forever)."""
    ledger.apply_results([replace(result("t1"), created_at="0001-01-01T00:00:00+01:00")])
    decided = ledger.get("t1")
    assert (decided.status, decided.created_at) == ("approved", T0 + timedelta(seconds=1))


def test_redelivered_and_conflicting_results_keep_the_first_final_status(ledger):
    ledger.add_pending(pending("t1"))
    ledger.apply_results([result("t1", "approved"), result("t1", "approved")])
    ledger.apply_results([result("t1", "rejected", "late duplicate")])
    assert ledger.get("t1").status == "approved"


def test_lists_newest_first_with_a_stable_cursor_for_equal_timestamps(ledger):
    for id_ in ("a", "b", "c"):
        ledger.add_pending(pending(id_))  # same created_at: the id breaks the tie
    ledger.add_pending(pending("d", T0 + timedelta(microseconds=1)))
    first = ledger.page(ListQuery("acct_a", limit=2))
    rest = ledger.page(ListQuery("acct_a", limit=2, starting_after=first.items[-1].id))
    assert [t.id for t in first.items + rest.items] == ["d", "c", "b", "a"]
    assert (first.has_more, rest.has_more) == (True, False)


def test_daily_totals_group_by_day_status_and_reason(ledger):
    ledger.add_pending(pending("p1", T0))
    ledger.apply_results(
        [
            result("a1", amount="10.50"),
            result("a2", amount="0.01"),
            result("r1", "rejected", "credit card expired"),
            result("a3", at=T0 + timedelta(days=1), amount="1000.00"),
            result("x1", account="acct_b"),
            result("old", at=T0 - timedelta(days=40)),
        ]
    )
    totals = ledger.daily_totals("acct_a", date(2026, 11, 1), date(2026, 11, 30))
    summary = sorted((t.day.isoformat(), t.status, t.error_message, t.count, t.volume) for t in totals)
    assert summary == [
        ("2026-11-23", "approved", "", 2, Decimal("10.51")),
        ("2026-11-23", "pending", "", 1, Decimal("10.50")),
        ("2026-11-23", "rejected", "credit card expired", 1, Decimal("10.50")),
        ("2026-11-24", "approved", "", 1, Decimal("1000.00")),
    ]
    every_account = ledger.daily_totals(None, date(2026, 11, 23), date(2026, 11, 23))
    assert {t.status: t.count for t in every_account} == {"approved": 3, "pending": 1, "rejected": 1}


def test_concurrent_claims_of_one_key_all_get_the_same_record(engine, database_url):
    # A pool holding a connection per racer: otherwise the racers queue for connections being
    # opened one by one, and the claims may never meet inside the database.
    # A claim takes ~0.4 ms on SQLite: a loaded machine may run a round's threads one after another
    # although the barrier released them together. Every round must end with one holder; rounds go on
    # (30 at most) until three of them provably raced.
    racing_engine = build_engine(database_url, pool_size=RACERS)
    store = SqlIdempotencyStore(racing_engine)
    raced = rounds = 0
    try:
        while raced < 3 and rounds < 30:  # the first round also opens the connections
            key = f"k{rounds}"
            holders, spans = race(
                lambda n, key=key: store.claim(
                    IdempotencyRecord("acct_a", key, "fp", f"{key}-tx{n}", T0), expired_before=T0 - timedelta(hours=24)
                ),
                RACERS,
            )
            assert len({h.transaction_id for h in holders}) == 1, f"{key}: several holders"
            raced += most_in_flight(spans) >= 2
            rounds += 1
    finally:
        racing_engine.dispose()
    assert raced == 3, f"only {raced} of {rounds} rounds raced: the claims ran one after another"


def test_an_expired_key_is_taken_over(engine):
    store = SqlIdempotencyStore(engine)
    store.claim(IdempotencyRecord("acct_a", "k", "fp1", "tx1", T0), expired_before=T0 - timedelta(hours=24))
    later = T0 + timedelta(hours=25)
    holder = store.claim(
        IdempotencyRecord("acct_a", "k", "fp2", "tx2", later), expired_before=later - timedelta(hours=24)
    )
    assert (holder.transaction_id, holder.fingerprint) == ("tx2", "fp2")


def test_ids_are_as_long_as_the_contract_allows_and_case_sensitive(ledger):
    ledger.apply_results([result("T" * 100, account="A" * 100), result("Tx-A"), result("tx-a", "rejected", "r")])
    assert ledger.get("T" * 100).account_id == "A" * 100
    assert (ledger.get("Tx-A").status, ledger.get("tx-a").status) == ("approved", "rejected")
    assert ledger.get("TX-A") is None
    assert ledger.page(ListQuery(account_id="a" * 100)).items == []


def test_the_oldest_pending_row_gives_the_pending_age_gauge(ledger):
    from prometheus_client import CollectorRegistry, Gauge

    from gateway_api.entrypoints.oldest_pending import OldestPending

    registry = CollectorRegistry()
    gauge = Gauge("oldest_pending_seconds", "test", registry=registry)
    monitor = OldestPending(ledger, gauge, now=lambda: T0 + timedelta(minutes=10))
    monitor.refresh()
    assert registry.get_sample_value("oldest_pending_seconds") == 0
    ledger.add_pending(pending("old", at=T0))
    ledger.add_pending(pending("newer", at=T0 + timedelta(minutes=9)))
    monitor.refresh()
    assert registry.get_sample_value("oldest_pending_seconds") == 600
    ledger.apply_results([result("old")])
    monitor.refresh()
    assert registry.get_sample_value("oldest_pending_seconds") == 60


# -- through the group commit, as the API writes: several requests' writes in one transaction --------------


@pytest.fixture
def writes(engine):
    writes = GroupCommit(engine, name="test-group-commit")
    yield writes
    writes.release()


def checkouts(engine) -> list:
    """One entry per connection taken from the engine's pool from now on."""
    seen = []
    event.listen(engine, "checkout", lambda *_: seen.append(1))
    return seen


def test_commits_that_follow_each_other_share_one_connection_and_an_idle_one_goes_back_to_the_pool(
    engine, writes, monkeypatch
):
    ledger = SqlLedger(engine, writes)
    seen = checkouts(engine)
    for n in range(5):
        ledger.add_pending(pending(f"t{n}"))
    assert len(seen) == 1
    monkeypatch.setattr(group_commit, "HOLD_SECONDS", 0.0)  # every commit now follows an idle spell
    ledger.add_pending(pending("later"))
    assert len(seen) == 2


def test_after_a_failed_commit_the_next_one_starts_on_a_fresh_connection(engine, writes):
    ledger = SqlLedger(engine, writes)
    seen = checkouts(engine)
    ledger.add_pending(pending("t1"))
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the backend raises for NOT NULL
        ledger.add_pending(replace(pending("bad"), account_id=None))
    ledger.add_pending(pending("t2"))
    assert len(seen) == 2
    assert ledger.get("t2") is not None


def test_concurrent_claims_of_one_key_in_group_commits_all_get_the_same_record(engine, writes):
    store = SqlIdempotencyStore(engine, writes)
    holders, spans = race(
        lambda n: store.claim(
            IdempotencyRecord("acct_a", "k", "fp", f"tx{n}", T0), expired_before=T0 - timedelta(hours=24)
        ),
        12,
    )
    assert len({h.transaction_id for h in holders}) == 1
    assert most_in_flight(spans) >= 2, "the claims ran one after another, nothing raced"


@pytest.mark.parametrize("count", [1, 5])
def test_the_claims_read_back_searches_the_primary_key_never_scans_the_table(tmp_path, count):
    engine = build_engine(f"sqlite:///{tmp_path}/plan.db")
    metadata.create_all(engine)
    statement = holders_of(engine.dialect)._prepared(count)
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement.sql, ("x",) * statement.sql.count("?")
        ).all()
    engine.dispose()
    steps = [row[3] for row in plan]
    assert not [step for step in steps if step.startswith("SCAN")], steps
    assert len([step for step in steps if step.startswith("SEARCH")]) == count


def test_a_commit_of_more_keys_than_a_statement_holds_claims_every_one(engine):
    store, expired_before = SqlIdempotencyStore(engine), T0 - timedelta(hours=24)
    records = [IdempotencyRecord("acct_a", f"k{n}", "fp", f"tx{n}", T0) for n in range(PreparedForEach.CHUNK * 2 + 3)]
    with engine.begin() as connection:
        holders = store._claims.write(connection, [(r, expired_before) for r in records + records[:1]])
    assert [h.transaction_id for h in holders] == [r.transaction_id for r in records + records[:1]]
    again = [store.claim(IdempotencyRecord("acct_a", r.key, "fp", "other", T0), expired_before) for r in records]
    assert [h.transaction_id for h in again] == [r.transaction_id for r in records]


def test_an_expired_key_is_taken_over_once_when_claimed_twice_in_one_commit(engine):
    store = SqlIdempotencyStore(engine)
    store.claim(IdempotencyRecord("acct_a", "k", "fp1", "tx1", T0), expired_before=T0 - timedelta(hours=24))
    later = T0 + timedelta(hours=25)
    claims = [(IdempotencyRecord("acct_a", "k", "fp2", f"tx{n}", later), later - timedelta(hours=24)) for n in (2, 3)]
    with engine.begin() as connection:
        holders = store._claims.write(connection, claims)
    assert [h.transaction_id for h in holders] == ["tx2", "tx2"]


def test_claims_that_all_insert_their_key_read_nothing_back_and_a_held_key_still_gets_its_holder(engine):
    """SQLite counts the rows its insert-if-absent inserted: a commit whose claims all inserted their own
    row answers them without a SELECT (MySQL counts a kept duplicate too, so it always reads back)."""
    store, expired_before = SqlIdempotencyStore(engine), T0 - timedelta(hours=24)
    store.claim(IdempotencyRecord("acct_a", "held", "fp", "tx-held", T0), expired_before)
    fresh = [IdempotencyRecord("acct_a", f"k{n}", "fp", f"tx{n}", T0) for n in range(3)]
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    with engine.begin() as connection:
        holders = store._claims.write(connection, [(record, expired_before) for record in fresh])
    if engine.dialect.name == "sqlite":
        assert [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")] == []
    assert holders == fresh
    # What a later claim reads back is what the first one was answered.
    assert [store.claim(replace(r, transaction_id="other"), expired_before) for r in fresh] == fresh
    with engine.begin() as connection:
        mixed = store._claims.write(
            connection,
            [
                (IdempotencyRecord("acct_a", "new", "fp", "tx-new", T0), expired_before),
                (IdempotencyRecord("acct_a", "held", "fp", "tx-other", T0), expired_before),
            ],
        )
    assert [holder.transaction_id for holder in mixed] == ["tx-new", "tx-held"]


def test_pending_rows_are_committed_before_add_pending_returns(engine, writes):
    ledger = SqlLedger(engine, writes)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: ledger.add_pending(pending(f"t{n}")), range(1, 9)))
    assert all(ledger.get(f"t{n}").status == "pending" for n in range(1, 9))


class _Hold(Batch):
    """A write that keeps the leader busy until released, so the next writes pile up into one commit."""

    def __init__(self):
        self.holding = threading.Event()
        self.release = threading.Event()

    def write(self, connection, items):
        self.holding.set()
        self.release.wait(10)
        return [None] * len(items)


def queued_in_one_commit(writes: GroupCommit, calls: list) -> list:
    hold = _Hold()
    with ThreadPoolExecutor(len(calls) + 1) as pool:
        pool.submit(writes.run, hold, None)
        assert hold.holding.wait(5)
        futures = [pool.submit(call) for call in calls]
        wait_until(lambda: writes.waiting() == len(calls), 5, message="writes queued behind the held one")
        hold.release.set()
        return [future.result() for future in futures]


def test_one_bad_write_fails_only_its_own_request(engine, writes):
    ledger = SqlLedger(engine, writes)
    refused = replace(pending("bad"), account_id=None)  # NOT NULL: both databases refuse it

    def add(transaction):
        try:
            ledger.add_pending(transaction)
            return "ok"
        except Exception:  # noqa: BLE001 - whatever the backend raises
            return "failed"

    rows = [pending("g0"), pending("g1"), refused, pending("g2")]
    outcomes = queued_in_one_commit(writes, [lambda t=t: add(t) for t in rows])
    assert outcomes == ["ok", "ok", "failed", "ok"]
    assert all(ledger.get(f"g{n}") is not None for n in range(3))


def test_claims_of_one_key_in_one_commit_resolve_to_the_first(engine, writes):
    store = SqlIdempotencyStore(engine, writes)
    expired_before = T0 - timedelta(hours=24)
    calls = [
        lambda n=n: store.claim(IdempotencyRecord("acct_a", "k", "fp", f"tx{n}", T0), expired_before) for n in range(5)
    ]
    holders = queued_in_one_commit(writes, calls)
    assert len({h.transaction_id for h in holders}) == 1
