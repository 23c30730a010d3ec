"""A ``refunds`` message into a :class:`RefundRequest`, strictly.

A message that names a refund, a payment and a merchant always decodes; an amount that is not a
positive decimal string with at most two decimals is marked invalid and the refund fails
(``invalid_amount``). A message that cannot be identified raises :class:`Unusable` and goes
to the dead-letter topic, never stopping the loop.
"""

from __future__ import annotations

from decimal import Decimal

import orjson

from infra.kernel.contracts import MAX_ID_LENGTH
from infra.kernel.money import AmountError, parse_amount

from processor.domain.refunds import RefundRequest
from processor.entrypoints.decoding import Unusable


def decode_refund(raw: bytes | None) -> RefundRequest:
    data = _json_object(raw)
    amount, valid = _amount(data.get("amount"))
    return RefundRequest(
        id=_identifier(data, "id"),
        transaction_id=_identifier(data, "transaction_id"),
        account_id=_identifier(data, "account_id"),
        amount=amount,
        amount_is_valid=valid,
    )


def _json_object(raw: bytes | None) -> dict:
    if not raw:
        raise Unusable("empty message")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Unusable("not JSON") from None
    if not isinstance(data, dict):
        raise Unusable("not a JSON object")
    return data


def _identifier(data: dict, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Unusable(f"no {name}")
    if len(value) > MAX_ID_LENGTH:
        raise Unusable(f"{name} longer than {MAX_ID_LENGTH} characters")
    return value


def _amount(value: object) -> tuple[Decimal | None, bool]:
    if value is None:
        return None, True
    if not isinstance(value, str):  # the API sends a decimal string: a number here is not from it
        return None, False
    try:
        return parse_amount(value), True  # the one money rule (infra.kernel.money); zero fails on its own rule
    except AmountError:
        return None, False
