"""The processor in-process on the real broker: batches in, one outcome per id out, idempotent."""

import json

import pytest
import sqlalchemy

from infra.kernel.contracts import DeadLetter, TransactionResult
from infra.runtime.card_cipher import CardCipher, CardDataKeys

from tests.support.transactions import (
    TopicReader,
    encrypted,
    mixed_transaction,
    produce,
    produce_mixed,
)


@pytest.fixture
def running_processor(start_processor):
    return start_processor()


def stored_rows(database_url) -> dict[str, tuple]:
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT id, status, error_message, processed_at FROM transactions")
            return {row[0]: tuple(row[1:]) for row in rows}
    finally:
        engine.dispose()


def results_by_id(values: list[bytes]) -> dict[str, list[bytes]]:
    """Each id's results as published, raw bytes, in arrival order."""
    by_id: dict[str, list[bytes]] = {}
    for value in values:
        by_id.setdefault(TransactionResult.from_json(value).id, []).append(value)
    return by_id


def test_a_thousand_mixed_transactions_get_exactly_one_outcome_each_even_when_produced_twice(
    running_processor, kafka_settings, database_url
):
    settings, registry = running_processor
    expected = produce_mixed(kafka_settings, 1000)
    reader = TopicReader(kafka_settings, kafka_settings.topics.results)
    first = results_by_id(reader.read_until(1000, 60))
    assert len(first) == 1000 and all(len(results) == 1 for results in first.values())
    decoded = {id: TransactionResult.from_json(r[0]) for id, r in first.items()}
    assert {id: r.error_message for id, r in decoded.items()} == expected
    assert {id: r.status for id, r in decoded.items()} == {
        id: "approved" if message == "" else "rejected" for id, message in expected.items()
    }
    # Results are keyed by account id, like the transactions they answer.
    assert all(
        key == TransactionResult.from_json(value).account_id.encode() for key, value in zip(reader.keys, reader.values)
    )
    rows = stored_rows(database_url)
    assert {id: row[1] for id, row in rows.items()} == expected

    produce_mixed(kafka_settings, 1000)  # the same ids again, as a redelivery would bring them
    both = results_by_id(reader.read_until(2000, 60))
    reader.close()
    # The message contract's promise (docs/contracts.md): a replay is the stored outcome published again, byte for byte.
    assert all(len(results) == 2 and results[0] == results[1] for results in both.values())
    assert stored_rows(database_url) == rows
    approved = registry.get_sample_value("processor_transactions_processed_total", {"status": "approved", "reason": ""})
    assert approved == 300  # decisions are counted once, replays are not


def test_unusable_messages_go_to_the_dlq_and_garbage_card_fields_are_rejected(
    running_processor, kafka_settings, database_url
):
    settings, registry = running_processor
    garbage = [
        b"not json 4111111111111111 cvv=482",
        b"[1,2,3]",
        b'{"amount": "10", "credit_card_number": "4111-1111-1111-1111", "credit_card_cvv": "731"}',
        json.dumps(encrypted({"id": "g-1", "credit_card_number": {"oops": 1}, "amount": "10"})).encode(),
        json.dumps(
            encrypted(
                {
                    "id": "g-2",
                    "credit_card_number": "4111111111111111",
                    "amount": "10",
                    "credit_card_expiration_month": "soon",
                }
            )
        ).encode(),
    ]
    produce(kafka_settings, garbage)
    results = TopicReader(kafka_settings, kafka_settings.topics.results)
    letters = TopicReader(kafka_settings, kafka_settings.topics.dlq)
    by_id = {r.id: r for r in map(TransactionResult.from_json, results.read_until(2, 30))}
    dead = [json.loads(value) for value in letters.read_until(3, 30)]
    results.close(), letters.close()
    assert {id: (r.status, r.error_message) for id, r in by_id.items()} == {
        "g-1": ("rejected", "invalid credit card number"),
        "g-2": ("rejected", "invalid expiration month"),
    }
    assert sorted(d["reason"] for d in dead) == ["no id", "not JSON", "not a JSON object"]
    assert all(d["source_topic"] == kafka_settings.topics.transactions and d["source_offset"] >= 0 for d in dead)
    payloads = "".join(d["payload"] for d in dead)
    assert "4111111111111111" not in payloads and "4111-1111-1111-1111" not in payloads
    assert "482" not in payloads and "731" not in payloads  # the CVVs are masked too
    assert payloads.count("************1111") == 2
    assert DeadLetter(**dead[0]).reason == dead[0]["reason"]
    assert registry.get_sample_value("processor_dlq_messages_total") == 3
    assert set(stored_rows(database_url)) == {"g-1", "g-2"}


def test_clear_or_undecryptable_card_data_gets_its_own_rejection_and_the_loop_goes_on(
    running_processor, kafka_settings, database_url, caplog
):
    settings, registry = running_processor
    good, _ = mixed_transaction(0, "cd-")  # approved when readable
    foreign = CardCipher(CardDataKeys.generate("test-1"))  # the right key id, another key
    messages = {
        "cd-clear": good | {"id": "cd-clear"},
        "cd-unknown-kid": encrypted(good | {"id": "cd-unknown-kid"}, CardCipher(CardDataKeys.generate("k9"))),
        "cd-wrong-key": encrypted(good | {"id": "cd-wrong-key"}, foreign),
        "cd-moved": encrypted(good | {"id": "cd-original"}) | {"id": "cd-moved"},
        "cd-malformed": encrypted(good | {"id": "cd-malformed"}) | {"card": {"kid": "test-1", "ct": "%%%"}},
        "cd-ok": encrypted(good | {"id": "cd-ok"}),
    }
    produce(kafka_settings, [json.dumps(m).encode() for m in messages.values()])
    reader = TopicReader(kafka_settings, kafka_settings.topics.results)
    by_id = {r.id: r for r in map(TransactionResult.from_json, reader.read_until(len(messages), 30))}
    reader.close()
    undecryptable = ("rejected", "card data could not be decrypted")
    assert {id: (r.status, r.error_message) for id, r in by_id.items()} == {
        "cd-clear": ("rejected", "card data is not encrypted"),
        "cd-unknown-kid": undecryptable,
        "cd-wrong-key": undecryptable,
        "cd-moved": undecryptable,
        "cd-malformed": undecryptable,
        "cd-ok": ("approved", ""),
    }
    assert by_id["cd-moved"].card_brand is None and by_id["cd-moved"].card_last4 is None
    assert set(stored_rows(database_url)) == set(messages)
    assert (
        registry.get_sample_value(
            "processor_transactions_processed_total",
            {"status": "rejected", "reason": "card data could not be decrypted"},
        )
        == 4
    )
    warnings = [r for r in caplog.records if r.getMessage() == "card data could not be decrypted"]
    causes = " ".join(str(record.causes) for record in warnings)  # one warning per batch
    assert "unknown key id 'k9'" in causes and "authentication failed under key 'test-1'" in causes
    logged = "\n".join(str(record.__dict__) for record in caplog.records)
    ciphertexts = [m["card"]["ct"] for m in messages.values() if "card" in m and len(m["card"]["ct"]) > 3]
    assert ciphertexts and not any(ct in logged for ct in ciphertexts)
    assert "4111111111111111" not in logged and "Ada Lovelace" not in logged


def test_the_original_clear_contract_is_decided_when_plaintext_is_accepted(start_processor, kafka_settings):
    start_processor(accept_plaintext_cards=True)
    expected = produce_mixed(kafka_settings, 50, "plain-", plaintext=True)
    reader = TopicReader(kafka_settings, kafka_settings.topics.results)
    decided = {r.id: r.error_message for r in map(TransactionResult.from_json, reader.read_until(50, 30))}
    reader.close()
    assert decided == expected


POISON_AMOUNTS = ["1E+1000000", "-1E+1000000", "1e999999999", "9" * 5000, "1_000", "\u0661\u0660.\u0665\u0660"]


def test_transactions_sent_after_poison_amounts_are_decided(running_processor, kafka_settings, database_url):
    good, _ = mixed_transaction(0, "pa-")  # approved when its amount is money
    poison = {
        f"pa-poison-{n}": encrypted(good | {"id": f"pa-poison-{n}", "amount": amount})
        for n, amount in enumerate(POISON_AMOUNTS)
    }
    after = {f"pa-after-{n}": encrypted(good | {"id": f"pa-after-{n}"}) for n in range(3)}
    # One key: every message on one partition, behind the poison ones.
    produce(
        kafka_settings,
        [json.dumps(m).encode() for m in (poison | after).values()],
        [b"acct-poison"] * (len(poison) + len(after)),
    )
    reader = TopicReader(kafka_settings, kafka_settings.topics.results)
    by_id = {r.id: r for r in map(TransactionResult.from_json, reader.read_until(len(poison) + len(after), 30))}
    reader.close()
    assert {id: by_id[id].status for id in after} == {id: "approved" for id in after}
    # Not an amount by the one money rule: counted as zero, as a missing amount always was.
    assert {id: (by_id[id].status, by_id[id].error_message, by_id[id].amount) for id in poison} == {
        id: ("rejected", "the amount must be greater than 1", None) for id in poison
    }
