"""Refund decisions (``refunds_result``) as the live panel shows them: decoded strictly, one row shape."""

from __future__ import annotations

import json

from infra.kernel.contracts import REFUND_FINAL_STATUSES, RefundResult

# Fields that must be non-empty text for a refund row to be shown (and filtered by merchant).
_REQUIRED = ("id", "transaction_id", "account_id", "status")


def decode_refund(raw: bytes | None) -> RefundResult:
    """A refund decision whose fields are all text (or null), with a final status.

    Raises ``ValueError`` for anything else: the reader skips and counts it."""
    data = json.loads(raw or b"")
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    fields = {name: data.get(name) for name in RefundResult.__dataclass_fields__}
    if not all(value is None or is_sendable_text(value) for value in fields.values()):
        raise ValueError("a field is not text")
    if not all(fields[name] for name in _REQUIRED) or fields["status"] not in REFUND_FINAL_STATUSES:
        raise ValueError("a required field is missing, or the status is not final")
    return RefundResult(**fields)


def is_sendable_text(value: object) -> bool:
    """A string a stream can send: UTF-8 encodable (JSON allows lone surrogates such as "\\ud800")."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def refund_to_event(refund: RefundResult) -> dict:
    """A refund row, with the keys of the API's refund (``GET /v1/refunds/{id}``) it knows, plus
    ``account_id`` (whose row it is) and ``amount_refunded`` (the payment's total once applied)."""
    return {
        "id": refund.id,
        "object": "refund",
        "status": refund.status,
        "transaction": refund.transaction_id,
        "amount": refund.amount,
        "failure_reason": refund.failure_reason,
        "account_id": refund.account_id,
        "amount_refunded": refund.amount_refunded,
        "processed_at": refund.processed_at,
    }
