"""A ``refunds_result`` message checked against the contract before the ledger sees it.

Like payment results, a message that breaks the contract is refused with a reason and dead-lettered.
"""

from __future__ import annotations

import re

from infra.kernel.contracts import (
    MAX_ID_LENGTH,
    REFUND_FAILURE_REASONS,
    REFUND_FINAL_STATUSES,
    REFUND_SUCCEEDED,
    RefundResult,
)

from gateway_api.entrypoints.result_decoding import Unusable, _check_id, _check_text, _json_object

_AMOUNT = re.compile(r"\A[0-9]{1,10}\.[0-9]{2}\Z")


def decode_refund_result(raw: bytes | None) -> RefundResult:
    data = _json_object(raw)
    _check_id(data.get("id"))
    _check_required("transaction_id", data.get("transaction_id"))
    _check_required("account_id", data.get("account_id"))
    status = data.get("status")
    if status not in REFUND_FINAL_STATUSES:
        raise Unusable("status is not succeeded or failed")
    reason = data.get("failure_reason")
    if (status == REFUND_SUCCEEDED) != (reason is None) or (
        reason is not None and reason not in REFUND_FAILURE_REASONS
    ):
        raise Unusable("failure_reason does not fit the status")
    _check_amount("amount", data.get("amount"), required=status == REFUND_SUCCEEDED)
    _check_amount("amount_refunded", data.get("amount_refunded"), required=True)
    _check_text("processed_at", data.get("processed_at"), 40)
    return RefundResult(**{name: data.get(name) for name in RefundResult.__dataclass_fields__})


def _check_required(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise Unusable(f"no {name}")
    _check_text(name, value, MAX_ID_LENGTH)


def _check_amount(name: str, value: object, required: bool) -> None:
    """What the processor writes: digits and exactly two decimals ("4.00"), nothing else."""
    if value is None and not required:
        return
    if not isinstance(value, str) or not _AMOUNT.match(value):
        raise Unusable(f"{name} is not an amount")
