"""Dead letters: messages a consumer can never use, parked on ``transactions_dlq`` with the reason.

Shared by the processor (transactions it cannot identify) and the results consumer (results the
ledger can never apply). Each letter names its source topic, partition and offset, so one topic
serves both; the payload is kept as text with card-like digit runs and CVVs masked.
"""
from __future__ import annotations

from collections.abc import Sequence

from confluent_kafka import Message

from infra.contracts import DeadLetter
from infra.kafka import AckedProducer, Record
from infra.redaction import mask_card_numbers


def dead_letter(message: Message, reason: str) -> DeadLetter:
    payload = (message.value() or b"").decode("utf-8", "replace")
    return DeadLetter(reason, message.topic(), message.partition(), message.offset(), mask_card_numbers(payload))


class DeadLetterPublisher:
    """Letters are acknowledged by the broker before the consumer commits past their messages."""

    def __init__(self, producer: AckedProducer, topic: str, timeout: float):
        self._producer = producer
        self._topic = topic
        self._timeout = timeout

    def publish(self, letters: Sequence[DeadLetter]) -> None:
        self._producer.send([Record(self._topic, letter.to_json()) for letter in letters], self._timeout)
