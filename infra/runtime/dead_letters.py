"""Dead letters: messages a consumer can never use, parked on ``transactions_dlq`` with the reason.

Shared by the processor (transactions it cannot identify) and the results consumer (results the
ledger can never apply). Each letter names its source topic, partition and offset, so one topic
serves both; the payload is kept as text with card-like digit runs and CVVs masked, and without
any sealed card: a letter lives 30 days, and no copy of it may give card data to whoever later holds
``CARD_DATA_KEYS`` (docs/threat-model-card-data.md). What an operator needs stays: the id, the
account, the amount, the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from confluent_kafka import Message

from infra.kernel.contracts import DeadLetter
from infra.runtime.kafka import AckedProducer, Record
from infra.runtime.offset_gaps import position
from infra.runtime.redaction import mask_card_numbers

REMOVED = "[removed]"
# In a payload that is no JSON object (cut short, garbage): a "ct" value, and any run long enough to
# be a piece of a ciphertext (a sealed card is ~150 base64 characters; GCM's counter mode opens a
# prefix of one without its tag, so a piece is as good as the whole for its bytes).
_CIPHERTEXT = re.compile(r'("ct"\s{0,8}:\s{0,8}")[^"]{0,100000}"?|[A-Za-z0-9+/]{32,}={0,2}')


def dead_letter(message: Message, reason: str) -> DeadLetter:
    payload = without_sealed_card((message.value() or b"").decode("utf-8", "replace"))
    (topic, partition), offset = position(message)
    return DeadLetter(reason, topic, partition, offset, mask_card_numbers(payload))


def without_sealed_card(payload: str) -> str:
    """``payload`` without its ``card`` (the sealed card fields) nor anything that looks like a piece of one."""
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        if "card" in data:
            data["card"] = REMOVED
        return json.dumps(data, ensure_ascii=False)
    return _CIPHERTEXT.sub(lambda match: (match.group(1) or "") + REMOVED, payload)


class DeadLetterPublisher:
    """Letters are acknowledged by the broker before the consumer commits past their messages."""

    def __init__(self, producer: AckedProducer, topic: str, timeout: float):
        self._producer = producer
        self._topic = topic
        self._timeout = timeout

    def publish(self, letters: Sequence[DeadLetter]) -> None:
        self._producer.send([Record(self._topic, letter.to_json()) for letter in letters], self._timeout)
