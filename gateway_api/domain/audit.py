"""The audit trail: who changed what configuration, from where, when, and how it ended.

Entries are append-only and chained: each holds the hash of the one before (``prev_hash``) and its
own ``hash`` = HMAC-SHA256(AUDIT_HMAC_KEY, its fields and ``prev_hash``). The key is a setting the
database never holds, so whoever can write the table cannot forge an entry; editing, reordering or
removing one breaks the chain at that entry. Removing the newest ones leaves a valid but shorter
chain: the head (sequence, hash) exported as a metric and logged periodically is what catches it
(``verify_chain(..., head=...)``). An entry never holds a secret or card data: ids and names only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

GENESIS_HASH = "0" * 64

OPERATOR, MERCHANT, BOOTSTRAP, CLI = "operator", "merchant", "bootstrap", "cli"
SUCCEEDED = "succeeded"


@dataclass(frozen=True)
class Actor:
    """Who acted: an operator's name (or ``bootstrap``, the admin token, or ``cli``: the command line
    holding the database), or a merchant account with the kind of credential it used."""

    kind: str
    name: str
    credential: str  # "operator_credential", "admin_token", "secret", "session", "database"
    account_id: str | None = None


@dataclass(frozen=True)
class Origin:
    request_id: str | None = None
    client_address: str | None = None


@dataclass(frozen=True)
class AuditRecord:
    """What happened, before the trail numbers and chains it."""

    actor: Actor
    action: str  # e.g. "account.create", "webhook_endpoint.roll_secret"
    object_type: str
    object_id: str | None
    origin: Origin
    outcome: str = SUCCEEDED
    account_id: str | None = None  # the merchant account the object belongs to (who may read the entry)


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    id: str
    at: datetime  # naive UTC
    actor_kind: str
    actor: str
    credential: str
    account_id: str | None
    action: str
    object_type: str
    object_id: str | None
    request_id: str | None
    client_address: str | None
    outcome: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> "ChainHead":
        seq, colon, digest = text.strip().partition(":")
        if not colon or not seq.isdigit() or len(digest) != 64:
            raise ValueError("a chain head reads SEQ:HASH (the hash 64 hex characters)")
        return cls(int(seq), digest.lower())


GENESIS = ChainHead(0, GENESIS_HASH)
_HASHED = [f.name for f in fields(AuditEntry) if f.name != "hash"]


def entry_hash(key: bytes, entry: AuditEntry) -> str:
    """HMAC-SHA256 over every field but the hash itself, in a canonical JSON form."""
    values = {name: _canonical(getattr(entry, name)) for name in _HASHED}
    return hmac.new(key, json.dumps(values, sort_keys=True, separators=(",", ":")).encode(), hashlib.sha256).hexdigest()


def _canonical(value):
    return value.isoformat(timespec="microseconds") if isinstance(value, datetime) else value


@dataclass(frozen=True)
class Verification:
    checked: int
    head: ChainHead
    first_bad: int | None = None  # the sequence number of the first entry that does not hold
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad is None


def verify_chain(key: bytes, entries: Iterable[AuditEntry], head: ChainHead | None = None) -> Verification:
    """Walk the entries in sequence order; name the first one that was changed, moved or removed.

    ``head`` is the last exported head: the chain must still contain it, unchanged."""
    previous, checked = GENESIS, 0
    for entry in entries:
        problem = _problem(key, entry, previous)
        if problem:  # the entry expected here is the first that does not hold (changed, moved or gone)
            return Verification(checked, previous, previous.seq + 1, problem)
        previous, checked = ChainHead(entry.seq, entry.hash), checked + 1
        if head is not None and entry.seq == head.seq and entry.hash != head.hash:
            return Verification(checked, previous, entry.seq, f"entry {entry.seq} is not the exported head")
    if head is not None and previous.seq < head.seq:
        return Verification(
            checked,
            previous,
            previous.seq + 1,
            f"entries {previous.seq + 1} to {head.seq} were removed (the exported head is {head})",
        )
    return Verification(checked, previous)


def _problem(key: bytes, entry: AuditEntry, previous: ChainHead) -> str:
    if entry.seq != previous.seq + 1:
        return f"entry {previous.seq + 1} is missing (found {entry.seq} after {previous.seq})"
    if entry.prev_hash != previous.hash:
        return f"entry {entry.seq} does not follow entry {previous.seq} (moved, or one before it was changed)"
    if not hmac.compare_digest(entry_hash(key, entry), entry.hash):
        return f"entry {entry.seq} was changed (its HMAC does not match)"
    return ""
