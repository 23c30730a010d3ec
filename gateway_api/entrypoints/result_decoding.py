"""A ``transactions_result`` message checked against the contract before the ledger sees it.

Results are machine-made (by the processor), so a message that breaks the contract is a bug or a
forgery: it is not guessed at but refused with a reason, and the consumer dead-letters it. What
passes here fits the ledger's columns, so one bad result can no longer fail a whole batch.
"""

from __future__ import annotations

import json

from infra.kernel.contracts import FINAL_STATUSES, MAX_ID_LENGTH, TransactionResult

# Optional text fields and the most characters the ledger keeps of each (None: it trims them itself).
_TEXT_FIELDS = {
    "account_id": MAX_ID_LENGTH,
    "error_message": None,
    "amount": None,
    "card_brand": 32,
    "card_last4": None,
    "created_at": None,
    "processed_at": None,
}


class Unusable(ValueError):
    """The message can never be applied to the ledger; the text says why."""


def decode_result(raw: bytes | None) -> TransactionResult:
    data = _json_object(raw)
    _check_id(data.get("id"))
    if data.get("status") not in FINAL_STATUSES:
        raise Unusable("status is not approved or rejected")
    for name, limit in _TEXT_FIELDS.items():
        _check_text(name, data.get(name), limit)
    return TransactionResult(**{name: data.get(name) for name in TransactionResult.__dataclass_fields__})


def _json_object(raw: bytes | None) -> dict:
    if not raw:
        raise Unusable("empty message")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # also bytes that are not UTF-8, and 5,000-digit integers
        raise Unusable("not JSON") from None
    if not isinstance(data, dict):
        raise Unusable("not a JSON object")
    return data


def _check_id(value: object) -> None:
    if not isinstance(value, str):
        raise Unusable("id is not a string")
    if not value.strip():
        raise Unusable("no id")
    _check_text("id", value, MAX_ID_LENGTH)


def _check_text(name: str, value: object, limit: int | None) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise Unusable(f"{name} is not a string")
    if limit is not None and len(value) > limit:
        raise Unusable(f"{name} longer than {limit} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800"): valid JSON, storable nowhere
        raise Unusable(f"{name} is not valid text") from None
