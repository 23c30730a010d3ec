"""No message or row content stops a consumer: arbitrary JSON values and bytes, fed to each consumer's
decode-and-handle path (processor, results consumer, panel reader, webhook dispatcher) on real SQLite.

Each handler must return (never raise: raising means "retry this batch forever"), and every message
that names a transaction must end decided or dead-lettered.
"""

import json
import string
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from infra.kernel.clock import utc_now
from infra.runtime.card_cipher import CardCipher
from infra.runtime.db import build_engine, migrate
from infra.runtime.kafka import KafkaSettings
from infra.runtime.poison import OutageOrPoison, database_answers
from infra.runtime.settings import Secret

from gateway_api.adapters.ledger_repository import SqlLedger
from gateway_api.adapters.metrics import ResultsMetrics
from gateway_api.adapters.secret_box import AesGcmSecretBox
from gateway_api.adapters.webhook_http import HttpWebhookSender
from gateway_api.domain.deliveries import RetrySchedule
from gateway_api.entrypoints.result_handler import ResultBatchHandler
from gateway_api.migrations import SCRIPT_LOCATION as LEDGER_MIGRATIONS
from gateway_api.use_cases.apply_results import ApplyResults
from gateway_api.use_cases.deliver_webhooks import DeliverWebhooks
from gateway_api.use_cases.ports import ClaimedDelivery, HostResolver
from panel.entrypoints.refund_results import refund_to_event
from panel.entrypoints.results_reader import ResultsReader, result_to_event
from panel.use_cases.hub import Hub
from processor.adapters.metrics import ProcessorMetrics
from processor.adapters.sql_repository import SqlTransactionRepository
from processor.bootstrap import MIGRATIONS as PROCESSOR_MIGRATIONS
from processor.entrypoints.card_data import CardDataReader
from processor.entrypoints.transaction_handler import TransactionBatchHandler
from processor.use_cases.ports import ResultPublisher
from processor.use_cases.process_transactions import ProcessTransactions
from tests.integration.gateway_api.support import WEBHOOK_SECRETS_KEY
from tests.support.ports import refusing_port
from tests.support.transactions import TEST_CARD_KEYS

BOUNDED = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# Amount-like strings too: exponents (1E+1000000), signs, other scripts' digits, huge digit runs.
amounts = json_values | st.from_regex(r"\A[-+ ]?[0-9\u0660-\u0669_]{0,12}(\.[0-9]{0,4})?([eE][-+]?[0-9]{1,9})?\Z")
text_ids = st.text(string.ascii_letters + string.digits, min_size=1, max_size=20).map(lambda s: "h-" + s)


class Message:
    """What confluent-kafka hands a batch handler: the value and where it came from."""

    def __init__(self, value: bytes | None, offset: int, topic: str = "topic"):
        self._value, self._offset, self._topic = value, offset, topic

    def value(self):
        return self._value

    def topic(self):
        return self._topic

    def partition(self):
        return 0

    def offset(self):
        return self._offset

    def key(self):
        return None


class Letters:
    def __init__(self):
        self.letters = []

    def publish(self, letters):
        self.letters += letters


class Published(ResultPublisher):
    def __init__(self):
        self.outcomes = []

    def publish(self, outcomes):
        self.outcomes += outcomes


def raw(value) -> bytes:
    return json.dumps(value).encode()


def batches(named_fields: dict) -> st.SearchStrategy:
    """A batch mixing bytes, arbitrary JSON and messages that name an id with arbitrary other fields."""
    named = st.builds(
        lambda id_, rest: (id_, raw({"id": id_} | rest)), text_ids, st.fixed_dictionaries({}, optional=named_fields)
    )
    anonymous = (st.binary(max_size=64) | json_values.map(raw)).map(lambda value: (None, value))
    return st.lists(named | anonymous, min_size=1, max_size=8)


@pytest.fixture(scope="module")
def processor_engine(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('processor') / 'p.db'}"
    migrate(url, PROCESSOR_MIGRATIONS)
    engine = build_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def ledger_engine(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'l.db'}"
    migrate(url, LEDGER_MIGRATIONS)
    engine = build_engine(url)
    yield engine
    engine.dispose()


TRANSACTION_FIELDS = {
    name: json_values
    for name in (
        "account_id",
        "card",
        "created_at",
        "credit_card_number",
        "credit_card_cvv",
        "credit_card_expiration_month",
        "credit_card_expiration_year",
        "credit_card_holder_name",
    )
} | {"amount": amounts}


@BOUNDED
@given(batch=batches(TRANSACTION_FIELDS))
@example(
    batch=[
        ("h-exp", raw({"id": "h-exp", "amount": "1E+1000000"})),
        ("h-neg", raw({"id": "h-neg", "amount": "-1E+1000000"})),
        (None, b"\xff"),
    ]
)
def test_the_processor_decides_or_dead_letters_whatever_a_message_holds(processor_engine, batch):
    published, letters = Published(), Letters()
    handler = TransactionBatchHandler(
        ProcessTransactions(SqlTransactionRepository(processor_engine), published),
        letters,
        ProcessorMetrics(CollectorRegistry()),
        CardDataReader(CardCipher(TEST_CARD_KEYS), accept_plaintext=True),
        OutageOrPoison(database_answers(processor_engine)),
    )
    handler([Message(value, offset) for offset, (_, value) in enumerate(batch)])
    decided = {outcome.id for outcome in published.outcomes}
    dead = {letter.source_offset for letter in letters.letters}
    assert all(id_ in decided or offset in dead for offset, (id_, _) in enumerate(batch) if id_)


RESULT_FIELDS = {
    name: json_values
    for name in ("error_message", "account_id", "card_brand", "card_last4", "created_at", "processed_at")
} | {"amount": amounts, "status": st.sampled_from(["approved", "rejected"]) | json_values}


@BOUNDED
@given(batch=batches(RESULT_FIELDS))
@example(
    batch=[
        ("h-exp", raw({"id": "h-exp", "status": "approved", "amount": "1E+1000000"})),
        ("h-ok", raw({"id": "h-ok", "status": "approved", "amount": "10.50"})),
    ]
)
def test_the_results_consumer_applies_or_dead_letters_whatever_a_message_holds(ledger_engine, batch):
    letters, ledger = Letters(), SqlLedger(ledger_engine)
    handler = ResultBatchHandler(
        ApplyResults(ledger),
        letters,
        ResultsMetrics(CollectorRegistry()),
        OutageOrPoison(database_answers(ledger_engine)),
    )
    handler([Message(value, offset) for offset, (_, value) in enumerate(batch)])
    dead = {letter.source_offset for letter in letters.letters}
    assert all(ledger.get(id_) is not None or offset in dead for offset, (id_, _) in enumerate(batch) if id_)


@BOUNDED
@given(batch=batches(RESULT_FIELDS | {"id": json_values}))
def test_the_panel_reader_shows_or_skips_whatever_a_message_holds(batch):
    hub = Hub()
    stream = hub.subscribe(lambda event: True, owner="operator")
    reader = ResultsReader(None, lambda result: hub.publish(result.account_id, result_to_event(result)))
    reader.handle_batch([Message(value, offset) for offset, (_, value) in enumerate(batch)])
    while (event := stream.next_event(0)) is not None:
        json.dumps(event.data).encode("utf-8")  # what the stream writes must be sendable


REFUND_FIELDS = {
    name: json_values for name in ("transaction_id", "account_id", "failure_reason", "amount_refunded", "processed_at")
} | {"amount": amounts, "status": st.sampled_from(["succeeded", "failed"]) | json_values}
REFUNDS_RESULT = KafkaSettings().topics.refunds_result


@BOUNDED
@given(batch=batches(REFUND_FIELDS | {"id": json_values}), results=batches(RESULT_FIELDS))
@example(
    batch=[
        (None, b"\xff"),
        (
            "re_ok",
            raw({"id": "re_ok", "transaction_id": "t", "account_id": "acc", "status": "succeeded", "amount": "1.00"}),
        ),
    ],
    results=[],
)
def test_the_panel_reader_shows_or_skips_whatever_a_refund_message_holds(batch, results):
    """Refund decisions and results interleaved: each is shown, or skipped and counted; never raised."""
    hub, skipped = Hub(), []
    stream = hub.subscribe(lambda event: True, owner="operator")
    reader = ResultsReader(
        KafkaSettings(),
        lambda result: hub.publish(result.account_id, result_to_event(result)),
        on_refund=lambda refund: hub.publish(refund.account_id, refund_to_event(refund), "refund"),
        on_unusable=lambda: skipped.append(1),
    )
    messages = [Message(value, offset, REFUNDS_RESULT) for offset, (_, value) in enumerate(batch)]
    messages += [Message(value, offset, "transactions_result") for offset, (_, value) in enumerate(results)]
    reader.handle_batch(messages)
    shown = []
    while (event := stream.next_event(0)) is not None:
        json.dumps(event.data).encode("utf-8")  # what the stream writes must be sendable
        shown.append(event)
    assert len(shown) + len(skipped) == len(messages)
    refunds = [event.data for event in shown if event.kind == "refund"]
    assert all(row["status"] in ("succeeded", "failed") and row["account_id"] and row["transaction"] for row in refunds)


class Loopback(HostResolver):
    def resolve(self, host: str, port: int) -> list[str]:
        return ["127.0.0.1"]


@pytest.fixture(scope="module")
def deliver():
    box = AesGcmSecretBox(Secret(WEBHOOK_SECRETS_KEY))
    sender = HttpWebhookSender(Loopback(), allow_private=True, connect_timeout_s=0.5)
    with refusing_port() as port:
        use_case = DeliverWebhooks(None, sender, box, RetrySchedule.parse("1m,5m"), utc_now, timedelta(minutes=5), 1.0)
        yield use_case, box.encrypt("whsec_test", "we_1"), port
    sender.close()


@BOUNDED
@given(
    path=st.text(max_size=20),
    url=st.text(max_size=40),
    event_id=st.text(max_size=20),
    payload=st.binary(max_size=64),
    secret=st.sampled_from(["valid", "", "garbage"]),
)
@example(path="\u00e9", url="", event_id="evt_1", payload=b"{}", secret="valid")
def test_every_webhook_attempt_ends_with_an_outcome_whatever_the_row_holds(
    deliver, path, url, event_id, payload, secret
):
    use_case, token, port = deliver
    for endpoint_url in (f"http://own.example:{port}/{path}", url):
        claimed = ClaimedDelivery(
            "wd_1",
            "lock",
            0,
            event_id,
            "transaction.approved",
            datetime(2026, 11, 23),
            payload,
            "we_1",
            endpoint_url,
            True,
            {"valid": token, "": "", "garbage": "x"}[secret],
        )
        record = use_case.attempt(claimed)
        assert record.attempt is not None and record.transition is not None
        assert record.attempt.result.outcome != "delivered"
        assert "whsec_test" not in (record.attempt.result.error or "")
