"""The deliveries table as a queue shared by dispatcher replicas, on SQLite and MariaDB."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from infra.kernel.contracts import TransactionResult
from infra.runtime.settings import Secret

from gateway_api.adapters.delivery_queue import SqlDeliveryQueue
from gateway_api.adapters.events_repository import SqlEvents
from gateway_api.adapters.ledger_repository import SqlLedger
from gateway_api.adapters.secret_box import AesGcmSecretBox
from gateway_api.adapters.tables import webhook_endpoints
from gateway_api.adapters.webhook_endpoints_repository import SqlWebhookEndpoints
from gateway_api.domain.deliveries import Attempt, AttemptResult, Transition
from gateway_api.domain.webhook_endpoints import WebhookEndpoint
from gateway_api.use_cases.ports import AttemptRecord, DeliveryQuery
from tests.integration.gateway_api.support import WEBHOOK_SECRETS_KEY

LEASE = timedelta(seconds=30)


@pytest.fixture
def queue(engine):
    return SqlDeliveryQueue(engine)


@pytest.fixture
def endpoint(engine):
    endpoint = WebhookEndpoint("we_1", "acct_a", "https://shop.example.com/hook", ("*",), datetime(2026, 1, 1))
    box = AesGcmSecretBox(Secret(WEBHOOK_SECRETS_KEY))
    assert SqlWebhookEndpoints(engine).add_within_limit(endpoint, box.encrypt("whsec_abc", endpoint.id), 16)
    return endpoint


def decide(engine, count: int, prefix: str = "t") -> None:
    results = [
        TransactionResult(
            f"{prefix}{i}",
            "approved",
            "",
            "acct_a",
            "1.00",
            "visa",
            "1111",
            "2026-11-23T10:00:00Z",
            "2026-11-23T10:00:01Z",
        )
        for i in range(count)
    ]
    SqlLedger(engine).apply_results(results)


def now() -> datetime:
    """A moment just after the deliveries were recorded (naive UTC, as stored)."""
    return datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(seconds=1)


def test_a_claim_leases_due_deliveries_with_what_is_needed_to_send_them(engine, queue, endpoint):
    decide(engine, 3)
    claimed = queue.claim(10, now(), LEASE)
    assert len(claimed) == 3 and len({c.lock_token for c in claimed}) == 1
    first = claimed[0]
    assert (first.endpoint_id, first.endpoint_url, first.endpoint_enabled, first.attempts_made) == (
        endpoint.id,
        endpoint.url,
        True,
        0,
    )
    assert AesGcmSecretBox(Secret(WEBHOOK_SECRETS_KEY)).decrypt(first.secret_token, endpoint.id) == "whsec_abc"
    assert b'"type":"transaction.approved"' in first.payload
    assert queue.claim(10, now(), LEASE) == [], "leased deliveries are invisible to other claimers"
    assert len(queue.claim(10, now() + LEASE + timedelta(seconds=1), LEASE)) == 3, "an expired lease is claimable"


def test_concurrent_claimers_never_get_the_same_delivery(engine, queue, endpoint):
    decide(engine, 300)
    start = threading.Barrier(4)

    def claim_until_empty(_):
        mine = []
        start.wait()
        while len(mine) <= 300 and (batch := queue.claim(7, now(), LEASE)):
            mine += [c.delivery_id for c in batch]
            time.sleep(0.001)  # let the others in, as sending the batch would
        return mine

    with ThreadPoolExecutor(4) as pool:
        per_claimer = list(pool.map(claim_until_empty, range(4)))
    every = [delivery_id for claims in per_claimer for delivery_id in claims]
    assert len(every) == len(set(every)) == 300
    assert sum(1 for claims in per_claimer if claims) >= 2, "the claimers shared the work"


def test_a_delivery_left_unsent_for_its_lease_is_written_nowhere(engine, queue, endpoint):
    decide(engine, 1)
    (claimed,) = queue.claim(1, now(), LEASE)
    assert claimed.lease_until is not None
    queue.record([AttemptRecord(claimed, None, None)])
    (delivery,) = SqlEvents(engine).deliveries("acct_a", claimed.event_id)
    assert (delivery.status, delivery.attempts, delivery.history) == ("pending", 0, ())
    assert queue.claim(1, now(), LEASE) == [], "still leased: only its expiry hands it on"


def test_released_deliveries_are_claimable_at_once(engine, queue, endpoint):
    decide(engine, 2)
    claimed = queue.claim(2, now(), LEASE)
    queue.release(claimed[:1])
    (again,) = queue.claim(2, now(), LEASE)
    assert again.delivery_id == claimed[0].delivery_id and again.attempts_made == 0


def test_an_outcome_moves_the_delivery_on_only_for_the_lease_holder(engine, queue, endpoint):
    decide(engine, 1)
    (stale,) = queue.claim(1, now(), LEASE)
    later = now() + LEASE + timedelta(seconds=1)
    (current,) = queue.claim(1, later, LEASE)
    queue.record([record(stale, AttemptResult("delivered", 0.01, 200), Transition("delivered", None))])
    (delivery,) = SqlEvents(engine).deliveries("acct_a", current.event_id)
    assert delivery.status == "pending", "the expired lease's outcome must not overwrite the new owner's"
    retry_at = later + timedelta(minutes=1)
    queue.record(
        [
            record(
                current, AttemptResult("http_error", 0.02, 503, None, "busy"), Transition("pending", retry_at), number=1
            )
        ]
    )
    (delivery,) = SqlEvents(engine).deliveries("acct_a", current.event_id)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at, delivery.last_http_status) == (
        "pending",
        1,
        retry_at,
        503,
    )
    assert [(a.number, a.result.http_status, a.result.response_body) for a in delivery.history] == [
        (1, 200, None),
        (1, 503, "busy"),
    ]
    assert queue.claim(1, later, LEASE) == [] and len(queue.claim(1, retry_at, LEASE)) == 1


def test_stats_count_the_due_backlog_retries_and_failing_endpoints(engine, queue, endpoint):
    decide(engine, 4)
    moment = now()
    claimed = queue.claim(2, moment, LEASE)
    queue.record(
        [
            record(c, AttemptResult("timeout", 10.0), Transition("pending", moment + timedelta(hours=1)), at=moment)
            for c in claimed
        ]
    )
    stats = queue.stats(moment + timedelta(seconds=30))
    assert (stats.due, stats.scheduled_retries, stats.failing_endpoints) == (2, 2, 1)
    assert stats.oldest_due_seconds >= 30 and stats.longest_failing_seconds >= 30
    (recovering,) = queue.claim(1, moment + timedelta(hours=2), LEASE)
    queue.record([record(recovering, AttemptResult("delivered", 0.01, 200), Transition("delivered", None), number=2)])
    assert queue.stats(moment + timedelta(hours=2)).failing_endpoints == 0


def test_deleting_an_endpoint_cancels_its_pending_deliveries_even_one_being_sent(engine, queue, endpoint):
    decide(engine, 2)
    (in_flight,) = queue.claim(1, now(), LEASE)
    SqlWebhookEndpoints(engine).delete("acct_a", endpoint.id)
    queue.record([record(in_flight, AttemptResult("delivered", 0.01, 200), Transition("delivered", None))])
    statuses = {d.status for d in SqlEvents(engine).recent_deliveries(_query()).items}
    assert statuses == {"canceled"}
    assert queue.claim(10, now() + LEASE * 2, LEASE) == []
    with engine.connect() as connection:
        assert connection.execute(select(webhook_endpoints.c.status)).scalar_one() == "deleted"


def test_purge_deletes_old_events_with_their_log_but_keeps_pending_ones(engine, queue, endpoint):
    decide(engine, 3)
    claimed = queue.claim(2, now(), LEASE)
    queue.record([record(c, AttemptResult("delivered", 0.01, 200), Transition("delivered", None)) for c in claimed])
    assert queue.purge(before=now() + timedelta(days=31), batch=1) == 2
    remaining = SqlEvents(engine).recent_deliveries(_query()).items
    assert [d.status for d in remaining] == ["pending"]
    assert queue.purge(before=now() - timedelta(days=1)) == 0


def record(
    claimed, result: AttemptResult, transition: Transition, number: int = 1, at: datetime | None = None
) -> AttemptRecord:
    attempt = Attempt(claimed.delivery_id, number, at or now(), result, transition.next_attempt_at)
    return AttemptRecord(claimed, attempt, transition)


def _query() -> DeliveryQuery:
    return DeliveryQuery("acct_a", limit=100)


def test_an_outcome_the_database_cannot_store_is_set_aside_and_the_others_are_written(engine, queue, endpoint):
    from prometheus_client import CollectorRegistry

    from infra.runtime.poison import OutageOrPoison, database_answers

    from gateway_api.adapters.metrics import WebhookMetrics
    from gateway_api.domain.deliveries import RetrySchedule
    from gateway_api.entrypoints.delivery_loop import DeliveryLoop
    from gateway_api.settings import WebhookSettings
    from gateway_api.use_cases.deliver_webhooks import DeliverWebhooks

    decide(engine, 3)
    claimed = queue.claim(10, now(), LEASE)
    deliver = DeliverWebhooks(queue, None, None, RetrySchedule.parse("1m"), now, LEASE, 1.0)
    dispatcher = DeliveryLoop(
        deliver,
        queue,
        WebhookSettings(secrets_key=Secret(WEBHOOK_SECRETS_KEY)),
        now,
        WebhookMetrics(CollectorRegistry()),
        OutageOrPoison(database_answers(engine)),
    )
    errors = ["refused", "bad \ud800 text no database stores", "refused"]  # a lone surrogate: not UTF-8
    dispatcher._unrecorded = [
        AttemptRecord(
            c,
            Attempt(
                c.delivery_id, 1, now(), AttemptResult("http_error", 0.1, 500, error), now() + timedelta(minutes=1)
            ),
            Transition("pending", now() + timedelta(minutes=1)),
        )
        for c, error in zip(claimed, errors)
    ]
    assert dispatcher._exchange(0) is None and dispatcher._unrecorded == []
    with engine.connect() as connection:
        from gateway_api.adapters.tables import webhook_attempts

        written = {row.delivery_id for row in connection.execute(select(webhook_attempts.c.delivery_id))}
    assert written == {claimed[0].delivery_id, claimed[2].delivery_id}
