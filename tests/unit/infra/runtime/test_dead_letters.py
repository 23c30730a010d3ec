"""A dead letter keeps what an operator needs (id, account, amount, the reason) and no sealed card."""

import json

import pytest

from infra.runtime.dead_letters import REMOVED, without_sealed_card

from tests.support.transactions import TEST_CIPHER

CARD = {"number": "4111111111111111", "name": "Ada", "expiration_month": 12, "expiration_year": 2099, "cvv_length": 3}


def sealed_message(**extra) -> dict:
    card = TEST_CIPHER.seal(CARD, "tx-1", "acct-1", "10.00")
    return {"id": "tx-1", "account_id": "acct-1", "amount": "10.00", "card": card} | extra


def test_a_json_message_loses_its_card_and_keeps_the_rest():
    kept = json.loads(without_sealed_card(json.dumps(sealed_message(note="why"))))
    assert kept == {"id": "tx-1", "account_id": "acct-1", "amount": "10.00", "card": REMOVED, "note": "why"}


@pytest.mark.parametrize("cut", [-1, -40, -100])
def test_a_message_cut_short_loses_every_piece_of_its_ciphertext(cut):
    message = sealed_message()
    text = json.dumps(message)[:cut]
    kept = without_sealed_card(text)
    ciphertext = message["card"]["ct"]
    assert not any(ciphertext[i : i + 24] in kept for i in range(0, len(ciphertext) - 24))
    assert '"id": "tx-1"' in kept


def test_a_message_without_card_is_left_as_it_was():
    assert json.loads(without_sealed_card('{"id": "x", "amount": "1"}')) == {"id": "x", "amount": "1"}
    assert without_sealed_card("not json at all") == "not json at all"
