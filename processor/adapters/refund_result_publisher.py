"""The ``refunds_result`` publisher."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from infra.runtime.kafka import AckedProducer, Record

from processor.adapters.result_messages import present_refund
from processor.domain.refunds import RefundOutcome
from processor.use_cases.ports import RefundResultPublisher


class KafkaRefundResultPublisher(RefundResultPublisher):
    """Keyed by account id, like the requests."""

    def __init__(self, producer: AckedProducer, topic: str, timeout: float):
        self._producer = producer
        self._topic = topic
        self._timeout = timeout

    def publish(self, outcomes: Sequence[RefundOutcome]) -> None:
        records = [
            Record(self._topic, orjson.dumps(vars(present_refund(o))), o.account_id.encode() or None) for o in outcomes
        ]
        if records:
            self._producer.send(records, self._timeout)
