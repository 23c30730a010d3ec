"""One consumer loop for several input topics: each message goes to the batch handler of its topic."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from confluent_kafka import Message


class TopicRouter:
    """Handlers run in the order given; any failure raises and the loop retries the whole batch,
    which every handler of the gateway makes harmless (idempotent by id)."""

    def __init__(self, handlers: Mapping[str, Callable[[Sequence[Message]], None]]):
        self._handlers = dict(handlers)

    def __call__(self, messages: Sequence[Message]) -> None:
        by_topic: dict[str | None, list[Message]] = {}  # None: an error event, which fetch_batch leaves out
        for message in messages:
            by_topic.setdefault(message.topic(), []).append(message)
        for topic, handler in self._handlers.items():
            if by_topic.get(topic):
                handler(by_topic[topic])
