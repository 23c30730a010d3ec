"""The processor decides refunds from `refunds` on the real broker and answers on `refunds_result`."""

import json

from infra.kernel.contracts import DeadLetter, RefundResult
from infra.runtime.kafka import Record, build_acked_producer

from tests.support.transactions import GOOD, TopicReader, encrypted, produce


def produce_refunds(settings, messages: list[bytes]) -> None:
    records = [Record(settings.topics.refunds, value, b"acct-r") for value in messages]
    build_acked_producer(settings, "test-producer").send(records, timeout=60)


def refund(refund_id: str, amount: str | None, transaction_id: str = "tx-r1") -> bytes:
    return json.dumps(
        {
            "id": refund_id,
            "transaction_id": transaction_id,
            "account_id": "acct-r",
            "amount": amount,
            "reason": "requested_by_customer",
        }
    ).encode()


def test_refunds_are_decided_in_order_once_each_and_poison_goes_to_the_dead_letter_topic(
    start_processor, kafka_settings
):
    settings, _registry = start_processor()
    payment = encrypted(GOOD | {"id": "tx-r1", "account_id": "acct-r", "amount": "100.00"})
    produce(kafka_settings, [json.dumps(payment).encode()], [b"acct-r"])
    assert len(TopicReader(kafka_settings, kafka_settings.topics.results).read_until(1, 60)) == 1
    produce_refunds(
        kafka_settings,
        [
            refund("re_1", "30.00"),
            b"not json",
            refund("re_2", "80.00"),
            refund("re_1", "30.00"),
            refund("re_3", None),
            json.dumps({"id": "re_4"}).encode(),
            refund("re_5", "1.5e1"),
            refund("re_6", "5.00", transaction_id="tx-unknown"),
            refund("re_3", None),
        ],
    )
    reader = TopicReader(kafka_settings, kafka_settings.topics.refunds_result)
    results = [RefundResult.from_json(value) for value in reader.read_until(5, 60)]
    decided = {}
    for result in results:
        assert decided.setdefault(result.id, result) == result  # a redelivered refund: the same decision
    assert {rid: (r.status, r.failure_reason, r.amount, r.amount_refunded) for rid, r in decided.items()} == {
        "re_1": ("succeeded", None, "30.00", "30.00"),
        "re_2": ("failed", "amount_exceeds_refundable", "80.00", "30.00"),
        "re_3": ("succeeded", None, "70.00", "100.00"),
        "re_5": ("failed", "invalid_amount", None, "100.00"),
        "re_6": ("failed", "transaction_not_approved", "5.00", "0.00"),
    }
    assert all(key == b"acct-r" for key in reader.keys)
    letters = [json.loads(v) for v in TopicReader(kafka_settings, kafka_settings.topics.dlq).read_until(2, 30)]
    assert sorted(letter["reason"] for letter in letters) == ["no transaction_id", "not JSON"]
    assert all(letter["source_topic"] == kafka_settings.topics.refunds for letter in letters)
    assert DeadLetter(**letters[0])
