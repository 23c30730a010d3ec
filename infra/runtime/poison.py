"""Telling a poison message from an outage, for every consumer that writes a batch.

A batch that fails is retried as a whole only while something it needs is away: the broker (a send
not acknowledged), or the database (it does not answer ``SELECT 1``, or it reports a connection, lock
or timeout problem). If the database answers and the failure is of any other kind, the batch is
applied again item by item, and the items that still fail are poison: the caller dead-letters them
(with the exception's class as the reason: messages and values may carry card data) and the rest of
the batch is applied. So no content can hold a partition, and no outage loses a message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from confluent_kafka import KafkaException
from sqlalchemy import Engine, text
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from infra.runtime.kafka import DeliveryError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Whatever the database answers to a ping, these mean "not now", never "never". ProgrammingError
# is MySQL's missing table or privilege (SQLite calls it OperationalError): values are bound
# parameters, so no message content raises it, and a table renamed away under a running consumer must
# hold every message until it is back, not dead-letter them all.
OUTAGE_ERRORS = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeout,
    ProgrammingError,
    KafkaException,
    DeliveryError,
    ConnectionError,
    TimeoutError,
)


def database_answers(engine: Engine) -> Callable[[], bool]:
    def ping() -> bool:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure: the database is not answering
            return False

    return ping


class OutageOrPoison:
    def __init__(self, database_answers: Callable[[], bool]):
        self._database_answers = database_answers

    def is_outage(self, exc: BaseException) -> bool:
        return isinstance(exc, OUTAGE_ERRORS) or not self._database_answers()


def poison_reason(exc: BaseException) -> str:
    """The class only: exception texts may quote the values (a card number, a payload)."""
    return f"cannot be applied: {type(exc).__name__}"


def apply_isolating(
    items: Sequence[T],
    apply: Callable[[Sequence[T]], R],
    judge: OutageOrPoison,
    reason: Callable[[BaseException], str] = poison_reason,
) -> tuple[list[R], list[tuple[T, str]]]:
    """``apply(items)`` once; if that fails with no outage, ``apply([item])`` for each item.

    Returns what each successful call returned, and the poison items with their reason. Re-raises
    the failure while it is an outage, so the caller's loop retries the whole batch later.
    """
    try:
        return [apply(items)], []
    except Exception as exc:
        if judge.is_outage(exc):
            raise
        log.warning(
            "a batch failed with the database up: applying its items one by one",
            extra={"error_class": type(exc).__name__, "items": len(items)},
        )
    done, poison = [], []
    for item in items:
        try:
            done.append(apply([item]))
        except Exception as exc:
            if judge.is_outage(exc):
                raise
            poison.append((item, reason(exc)))
    return done, poison
