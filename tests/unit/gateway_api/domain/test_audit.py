"""The audit chain's rules, without a database: each entry is bound to the one before by an HMAC
whose key the table never holds; the verifier names the first entry that does not hold."""

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from gateway_api.domain.audit import GENESIS, AuditEntry, ChainHead, entry_hash, verify_chain

KEY = b"k" * 32


def chain(length: int, key: bytes = KEY) -> list[AuditEntry]:
    entries, head = [], GENESIS
    for seq in range(1, length + 1):
        unsigned = AuditEntry(
            seq,
            f"aud_{seq}",
            datetime(2026, 12, 6) + timedelta(seconds=seq),
            "operator",
            "ada",
            "operator_credential",
            None,
            "account.create",
            "account",
            f"acct_{seq}",
            None,
            None,
            "succeeded",
            head.hash,
            "",
        )
        entries.append(replace(unsigned, hash=entry_hash(key, unsigned)))
        head = ChainHead(seq, entries[-1].hash)
    return entries


def test_an_intact_chain_verifies_up_to_its_head():
    entries = chain(5)
    result = verify_chain(KEY, entries, ChainHead(5, entries[-1].hash))
    assert result.ok and result.checked == 5 and result.head == ChainHead(5, entries[-1].hash)


def test_a_chain_made_with_another_key_fails_at_its_first_entry():
    assert verify_chain(KEY, chain(3, b"x" * 32)).first_bad == 1


@pytest.mark.parametrize("position", [0, 2, 4])
def test_any_edited_field_is_named(position):
    entries = chain(5)
    entries[position] = replace(entries[position], at=entries[position].at + timedelta(microseconds=1))
    assert verify_chain(KEY, entries).first_bad == position + 1


def test_an_entry_reordered_is_named_where_the_order_breaks():
    entries = chain(5)
    entries[1], entries[2] = entries[2], entries[1]
    assert verify_chain(KEY, entries).first_bad == 2


def test_the_newest_entries_removed_are_caught_only_against_an_exported_head():
    entries = chain(5)
    head = ChainHead(5, entries[-1].hash)
    assert verify_chain(KEY, entries[:3]).ok
    result = verify_chain(KEY, entries[:3], head)
    assert result.first_bad == 4 and "removed" in result.problem


def test_a_head_is_read_from_seq_colon_hash():
    assert ChainHead.parse("12:" + "A" * 64) == ChainHead(12, "a" * 64)
    with pytest.raises(ValueError):
        ChainHead.parse("12:abc")
