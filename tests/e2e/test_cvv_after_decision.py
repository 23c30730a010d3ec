"""An auditor with everything the deployment holds cannot recover the CVV of a decided transaction.

PCI DSS v4 3.3.1.2: sensitive authentication data is not retained after authorization, even
encrypted. The auditor pays with CVVs no other test sends, waits for the decisions, then takes every
record of every topic (dead letters included), every database file, every log file and every key and
secret the stack was given (``CARD_DATA_KEYS`` first), opens every sealed ``card`` it finds with those
keys, and looks for the CVVs in all of it. On main before issue 23 the sealed card carried the CVV:
this test recovered every one of them from `transactions` (docs/threat-model-card-data.md).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra.runtime.card_cipher import CardCipher, CardDataKeys, CardDataUnreadable, bound_amount
from infra.runtime.kafka import Record, build_acked_producer

from tests.e2e.helpers import card, final_transaction, pay
from tests.support import wait_until
from tests.support.kafka import read_messages

pytestmark = pytest.mark.slow

# CVVs of this module only, one 3-digit and one 4-digit (amex), plus a dead-lettered message's.
PAYMENTS = [("10.00", "4111111111111111", "831"), ("12.00", "378282246310005", "6582")]
# A message only the dead-letter topic takes (its id is too long), its card sealed with the deployment's key.
DEAD_LETTER_ID, DEAD_LETTER_CVV = "cvv-auditor-" + "x" * 100, "479"


@pytest.fixture(scope="module")
def decided(running_stack) -> list[tuple[str, str]]:
    """(transaction id, CVV) of payments the processor has decided, plus one sealed dead letter."""
    merchant = running_stack.create_merchant("CVV auditor shop")
    paid = []
    for amount, number, cvv in PAYMENTS:
        status, body, _ = pay(running_stack, merchant, amount, card(number=number, cvv=cvv))
        assert status == 202, body
        paid.append((body["id"], cvv))
    for transaction_id, _ in paid:
        assert final_transaction(running_stack, merchant, transaction_id, timeout=30)["status"] == "approved"
    send_sealed_dead_letter(running_stack)
    wait_until(
        lambda: any(DEAD_LETTER_ID.encode() in r for r in topic_records(running_stack, "dlq")),
        30,
        interval=0.2,
        message="the auditor's dead letter",
    )
    return paid


def send_sealed_dead_letter(stack) -> None:
    kafka = stack.kafka_settings()
    message = {"id": DEAD_LETTER_ID, "account_id": "acct-auditor", "amount": "10.00"}
    fields = {
        "number": "4111111111111111",
        "name": "Ada",
        "expiration_month": 12,
        "expiration_year": 2099,
        "cvv": DEAD_LETTER_CVV,
    }
    message["card"] = every_key(stack).seal(fields, DEAD_LETTER_ID, "acct-auditor", "10.00")
    build_acked_producer(kafka, "cvv-auditor").send(
        [Record(kafka.topics.transactions, json.dumps(message).encode())], timeout=30
    )


def topic_records(stack, which: str) -> list[bytes]:
    kafka = stack.kafka_settings()
    return [m.value() or b"" for m in read_messages(kafka, getattr(kafka.topics, which))]


def every_topic_record(stack) -> list[bytes]:
    kafka = stack.kafka_settings()
    return [m.value() or b"" for topic in kafka.topics.names() for m in read_messages(kafka, topic)]


def every_file(stack) -> dict[str, bytes]:
    """Every file under the stack's data folder: SQLite databases, their journals, every log."""
    root = Path(stack.settings.var_dir)
    return {str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def every_key(stack) -> CardCipher:
    return CardCipher(CardDataKeys.parse(stack.settings.card_data_keys.reveal()))


def opened_cards(cipher: CardCipher, text: str) -> list[dict]:
    """Every ``card`` of every JSON object in ``text`` (a record, or a dead letter's payload) that
    the keys open, bound to its own message's id, account and amount."""
    found = []
    for message in _json_objects(text):
        try:
            found.append(
                cipher.open(
                    message.get("card"),
                    str(message.get("id", "")).strip(),
                    str(message.get("account_id") or "")[:100],
                    bound_amount(message.get("amount")),
                )
            )
        except CardDataUnreadable:
            pass
    return found


def _json_objects(text: str) -> list[dict]:
    objects = []
    for candidate in [text, *re.findall(r'"payload":\s*("(?:[^"\\]|\\.)*")', text)]:
        try:
            value = json.loads(candidate)
            value = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            continue
        if isinstance(value, dict):
            objects.append(value)
    return objects


# A CVV as a copy would label it: a JSON field, a log's key=value, a column named for it.
_LABELLED = re.compile(r"(?i)(?:cvv|cvc|security.?code)\w*\W{0,4}(\d{3,4})(?!\d)")


def recovered_cvvs(decided, texts: list[str], cipher: CardCipher) -> set[str]:
    """The CVVs of ``decided`` that ``texts`` give up: from a card the keys open, or labelled in clear
    (unlabelled digits are the card-data scan's job, tests/e2e/test_card_data.py)."""
    cvvs = {cvv for _, cvv in decided}
    opened = {str(card.get("cvv")) for text in texts for card in opened_cards(cipher, text)}
    labelled = {match.group(1) for text in texts for match in _LABELLED.finditer(text)}
    return cvvs & (opened | labelled)


def test_no_cvv_of_a_decided_transaction_is_recoverable_with_every_copy_and_every_key(decided, running_stack):
    cipher = every_key(running_stack)
    records = every_topic_record(running_stack)
    files = every_file(running_stack)
    assert any(transaction_id.encode() in record for transaction_id, _ in decided for record in records)
    assert any(name.endswith(".db") for name in files) and any(name.endswith(".log") for name in files)
    texts = [record.decode("utf-8", "replace") for record in records]
    texts += [data.decode("utf-8", "replace") for data in files.values()]
    assert recovered_cvvs(decided, texts, cipher) == set()


def test_the_auditor_does_open_the_sealed_cards_it_finds(decided, running_stack):
    """The keys are the right ones: the PAN (which PCI lets stay sealed) comes out of `transactions`."""
    cipher = every_key(running_stack)
    ids = {transaction_id for transaction_id, _ in decided}
    records = [r.decode() for r in every_topic_record(running_stack) if any(i.encode() in r for i in ids)]
    cards = [card for text in records for card in opened_cards(cipher, text)]
    assert {card["number"] for card in cards} >= {number for _, number, _ in PAYMENTS}


def test_no_dead_letter_keeps_card_ciphertext(decided, running_stack):
    letters = [json.loads(r) for r in topic_records(running_stack, "dlq") if DEAD_LETTER_ID.encode() in r]
    assert letters and all(json.loads(letter["payload"]).get("card") == "[removed]" for letter in letters)
    assert (
        recovered_cvvs([("", DEAD_LETTER_CVV)], [json.dumps(letter) for letter in letters], every_key(running_stack))
        == set()
    )
