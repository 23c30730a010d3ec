"""Mixed `transactions` messages with known expected outcomes, and a reader of the result topics."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

from confluent_kafka import Consumer

from infra.kernel.contracts import PLAINTEXT_CARD_FIELDS
from infra.runtime.card_cipher import CardCipher, CardDataKeys, bound_amount
from infra.runtime.kafka import KafkaSettings, Record, build_acked_producer, consumer_config

# The card-data keys of a test session: random, so strong, and given to every processor a test starts.
TEST_CARD_KEYS = CardDataKeys.generate("test-1")
TEST_CIPHER = CardCipher(TEST_CARD_KEYS)

YEAR = datetime.now(timezone.utc).year
GOOD = {
    "credit_card_number": "4111111111111111",
    "credit_card_name": "Ada Lovelace",
    "credit_card_expiration_month": 12,
    "credit_card_expiration_year": YEAR + 3,
    "credit_card_cvv": "123",
    "amount": "10.00",
}
# (changes to a good transaction, expected error_message); "" means approved.
CASES = (
    ({}, ""),
    ({"credit_card_number": "378282246310005", "credit_card_cvv": 1234, "amount": 1000}, ""),
    ({"amount": 1.0}, ""),
    ({"credit_card_number": "4111111111111112"}, "invalid credit card number"),
    ({"credit_card_expiration_month": 13}, "invalid expiration month"),
    ({"credit_card_expiration_year": YEAR - 1}, "invalid expiration year"),
    ({"credit_card_cvv": "12"}, "invalid credit card cvv"),
    ({"credit_card_name": " "}, "invalid credit card name"),
    ({"amount": "1000.01"}, "you dont have limit for this transaction"),
    ({"amount": "0.99"}, "the amount must be greater than 1"),
)


def mixed_transaction(index: int, run: str = "") -> tuple[dict, str]:
    """The index-th message of a mixed stream and its expected error_message."""
    changes, expected = CASES[index % len(CASES)]
    message = (
        GOOD
        | changes
        | {
            "id": f"{run}tx-{index}",
            "account_id": f"acct-{index % 7}",
            "created_at": datetime.now(timezone.utc).isoformat(),
        }
    )
    return message, expected


def encrypted(message: dict, cipher: CardCipher = TEST_CIPHER) -> dict:
    """``message`` in today's contract: its clear card fields sealed into ``card``, as the API does."""
    clear = _without_cvv_value(
        {name: message[field] for name, field in PLAINTEXT_CARD_FIELDS.items() if field in message}
    )
    rest = {key: value for key, value in message.items() if key not in PLAINTEXT_CARD_FIELDS.values()}
    # Bound to the id and account id as the processor reads them (trimmed, at most 100 characters).
    transaction_id, account_id = str(message["id"]).strip(), str(message.get("account_id") or "")[:100]
    card = cipher.seal(clear, transaction_id, account_id, bound_amount(message.get("amount")))
    return rest | {"card": card}


def _without_cvv_value(card: dict) -> dict:
    """As the API seals a card since issue 23: the CVV's length, never its value. A CVV the API would
    refuse (not 3-4 digits) stays as a value, the form of messages sealed before, still decided the same."""
    cvv = str(card.get("cvv", "")).strip()
    if cvv.isascii() and cvv.isdigit():
        return {name: value for name, value in card.items() if name != "cvv"} | {"cvv_length": len(cvv)}
    return card


def produce(settings: KafkaSettings, messages: list[bytes], keys: list[bytes | None] | None = None) -> None:
    keys = keys or [None] * len(messages)
    records = [Record(settings.topics.transactions, value, key) for value, key in zip(messages, keys)]
    build_acked_producer(settings, "test-producer").send(records, timeout=60)


def produce_mixed(settings: KafkaSettings, count: int, run: str = "", plaintext: bool = False) -> dict[str, str]:
    """Produce ``count`` mixed transactions (card data encrypted unless ``plaintext``); return id ->
    expected error_message."""
    pairs = [mixed_transaction(i, run) for i in range(count)]
    values = [json.dumps(m if plaintext else encrypted(m)).encode() for m, _ in pairs]
    produce(settings, values, [m["account_id"].encode() for m, _ in pairs])
    return {m["id"]: expected for m, expected in pairs}


class TopicReader:
    """Reads a topic from the beginning with a group of its own."""

    def __init__(self, settings: KafkaSettings, topic: str):
        self._consumer = Consumer(consumer_config(settings, "test-reader", f"reader-{uuid.uuid4().hex}"))
        self._consumer.subscribe([topic])
        self.values: list[bytes] = []
        self.keys: list[bytes | None] = []  # the key of each value, in the same order

    def read_until(self, count: int, timeout: float) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while len(self.values) < count and time.monotonic() < deadline:
            for message in self._consumer.consume(5000, 0.2):
                if message.error() is None:
                    self.values.append(message.value())
                    self.keys.append(message.key())
        return self.values

    def read_for(self, seconds: float) -> list[bytes]:
        """Everything that arrives within ``seconds`` (to prove nothing more comes)."""
        return self.read_until(10**9, seconds)

    def close(self) -> None:
        self._consumer.close()
