"""The outbox on SQLite and MariaDB: apply_results records one event per transaction that becomes
final, in the same DB transaction, and a first delivery per subscribed endpoint."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from infra.kernel.contracts import TransactionResult
from infra.runtime.settings import Secret

from gateway_api.adapters import resource_shapes
from gateway_api.adapters.events_repository import SqlEvents
from gateway_api.adapters.secret_box import AesGcmSecretBox
from gateway_api.adapters.tables import events, webhook_deliveries
from gateway_api.adapters.webhook_endpoints_repository import SqlWebhookEndpoints
from gateway_api.domain.transactions import Card, Transaction, TransactionRequest
from gateway_api.domain.webhook_endpoints import WebhookEndpoint
from gateway_api.use_cases.ports import EventQuery
from tests.integration.gateway_api.support import WEBHOOK_SECRETS_KEY

T0 = datetime(2026, 11, 23, 10, 0, 0, 123456)
CARD = Card("4111111111111111", "Ada", 12, 2099, "987")


@pytest.fixture
def endpoints(engine):
    return SqlWebhookEndpoints(engine)


def add_endpoint(endpoints, account: str, events_: tuple[str, ...] = ("*",), id_: str = "") -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        id_ or f"we_{account}_{len(endpoints.endpoints_of(account))}",
        account,
        "https://shop.example.com/hook",
        events_,
        T0,
    )
    sealed = AesGcmSecretBox(Secret(WEBHOOK_SECRETS_KEY)).encrypt("whsec_x", endpoint.id)
    assert endpoints.add_within_limit(endpoint, sealed, 16)
    return endpoint


def pending(id_: str, account: str = "acct_a") -> Transaction:
    return Transaction.pending(id_, account, TransactionRequest(Decimal("10.50"), CARD, "order 7"), T0)


def result(id_: str, status: str = "approved", account: str = "acct_a", reason: str = "") -> TransactionResult:
    return TransactionResult(
        id_,
        status,
        reason,
        account,
        "10.50",
        "visa",
        "1111",
        T0.isoformat() + "Z",
        (T0 + timedelta(seconds=1)).isoformat() + "Z",
    )


def count(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_decision_records_one_event_carrying_the_transaction_as_get_shows_it(ledger, engine):
    ledger.add_pending(pending("t1"))
    ledger.apply_results([result("t1", "rejected", reason="credit card expired")])
    (event,) = SqlEvents(engine).page(EventQuery("acct_a")).items
    body = event.as_dict()
    assert (body["id"], body["type"]) == (event.id, "transaction.rejected") and body["id"].startswith("evt_")
    assert body["data"]["object"] == resource_shapes.transaction(ledger.get("t1")) | {"amount_refunded": "0.00"}
    assert body["data"]["object"]["description"] == "order 7"
    # The CVV as a JSON value: bare digits also turn up inside a microsecond timestamp ("...127987Z").
    assert "4111111111111111" not in event.payload.decode() and '"987"' not in event.payload.decode()
    assert "cvv" not in event.payload.decode().lower()


def test_a_redelivered_result_makes_no_second_event_in_the_same_batch_or_later(ledger, engine):
    ledger.add_pending(pending("t1"))
    ledger.apply_results([result("t1"), result("t1")])
    ledger.apply_results([result("t1")])
    ledger.apply_results([result("t1", "rejected", reason="late conflicting duplicate")])
    assert count(engine, events) == 1
    assert SqlEvents(engine).page(EventQuery("acct_a")).items[0].type == "transaction.approved"


def test_a_result_before_the_pending_row_still_gets_its_event(ledger, engine):
    ledger.apply_results([result("early")])
    ledger.add_pending(pending("early"))
    ledger.apply_results([result("early")])
    assert count(engine, events) == 1


def test_a_row_that_was_final_before_gets_no_event_from_a_replayed_result(ledger, engine):
    """A transaction decided before webhooks existed (no event row) stays without one on replay."""
    ledger.apply_results([result("old")])
    with engine.begin() as connection:
        connection.execute(webhook_deliveries.delete())
        connection.execute(events.delete())
    ledger.apply_results([result("old")])
    assert count(engine, events) == 0


def test_deliveries_go_to_the_merchants_subscribed_enabled_endpoints_only(ledger, engine, endpoints):
    every = add_endpoint(endpoints, "acct_a", ("*",))
    approved_only = add_endpoint(endpoints, "acct_a", ("transaction.approved",))
    rejected_only = add_endpoint(endpoints, "acct_a", ("transaction.rejected",))
    deleted = add_endpoint(endpoints, "acct_a")
    endpoints.delete("acct_a", deleted.id)
    other_merchant = add_endpoint(endpoints, "acct_b")
    ledger.apply_results(
        [result("t1", "approved"), result("t2", "rejected", reason="x"), result("t3", account="acct_b")]
    )
    with engine.connect() as connection:
        rows = connection.execute(
            select(webhook_deliveries.c.endpoint_id, events.c.transaction_id).join(
                events, events.c.id == webhook_deliveries.c.event_id
            )
        ).all()
    assert sorted(rows) == sorted(
        [
            (every.id, "t1"),
            (every.id, "t2"),
            (approved_only.id, "t1"),
            (rejected_only.id, "t2"),
            (other_merchant.id, "t3"),
        ]
    )
    ledger.apply_results([result("t1"), result("t2", "rejected", reason="x")])
    assert count(engine, webhook_deliveries) == 5


def test_a_thousand_results_in_one_batch_make_a_thousand_events_and_deliveries(ledger, engine, endpoints):
    add_endpoint(endpoints, "acct_a")
    for index in range(0, 1000, 2):
        ledger.add_pending(pending(f"bulk-{index}"))
    ledger.apply_results([result(f"bulk-{index}") for index in range(1000)])
    assert (count(engine, events), count(engine, webhook_deliveries)) == (1000, 1000)


def test_events_list_newest_first_by_type_with_a_cursor_and_never_another_merchants(ledger, engine):
    ledger.apply_results([result(f"a{index}", "approved" if index % 2 else "rejected") for index in range(5)])
    ledger.apply_results([result("b1", account="acct_b")])
    repository = SqlEvents(engine)
    first = repository.page(EventQuery("acct_a", limit=2))
    rest = repository.page(EventQuery("acct_a", limit=10, starting_after=first.items[-1].id))
    assert len(first.items + rest.items) == 5 and (first.has_more, rest.has_more) == (True, False)
    assert {e.transaction_id for e in first.items + rest.items} == {f"a{index}" for index in range(5)}
    assert [e.type for e in repository.page(EventQuery("acct_a", type="transaction.approved")).items] == [
        "transaction.approved"
    ] * 2
    b_event = repository.page(EventQuery("acct_b")).items[0]
    assert repository.get("acct_a", b_event.id) is None
    with pytest.raises(Exception, match="starting_after"):
        repository.page(EventQuery("acct_a", starting_after=b_event.id))
