"""The ``transactions_result`` publisher: a batch's outcomes in one acknowledged send."""

from __future__ import annotations

from collections.abc import Sequence

from infra.runtime.kafka import AckedProducer, Record

from processor.adapters.result_messages import result_messages
from processor.domain.transaction import Outcome
from processor.use_cases.ports import ResultPublisher


class KafkaResultPublisher(ResultPublisher):
    """All results of a batch in one acknowledged send, keyed by account id like the input."""

    def __init__(self, producer: AckedProducer, topic: str, timeout: float):
        self._producer = producer
        self._topic = topic
        self._timeout = timeout

    def publish(self, outcomes: Sequence[Outcome]) -> None:
        topic = self._topic
        records = [
            Record(topic, value, o.account_id.encode() or None) for o, value in zip(outcomes, result_messages(outcomes))
        ]
        self._producer.send(records, self._timeout)
