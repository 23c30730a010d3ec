"""Transactions and refunds as JSON: one shape for ``GET /v1/transactions/{id}`` (``/v1/refunds/{id}``)
and for the events that carry them (``data.object`` of a webhook), so a merchant parses both with the
same code. The API's views (``web/``) and the outbox (an adapter) both build them from here; the
shapes only the API answers with are ``web/presenters.py``."""

from __future__ import annotations

from infra.kernel.clock import rfc3339
from infra.kernel.money import format_amount

from gateway_api.domain.refunds import Refund
from gateway_api.domain.transactions import Transaction


def accepted(t: Transaction) -> dict:
    return {
        "id": t.id,
        "status": t.status,
        "amount": None if t.amount is None else format_amount(t.amount),
        "card": {"brand": t.card_brand, "last4": t.card_last4},
        "created_at": rfc3339(t.created_at),
    }


def transaction(t: Transaction) -> dict:
    return accepted(t) | {
        "account_id": t.account_id,
        "description": t.description,
        "error_message": t.error_message,
        "processed_at": rfc3339(t.processed_at) if t.processed_at else None,
    }


def refund(r: Refund) -> dict:
    """``GET /v1/refunds/{id}``, the 202 of ``POST /v1/refunds`` and ``data.object`` of refund events."""
    return {
        "id": r.id,
        "object": "refund",
        "status": r.status,
        "transaction": r.transaction_id,
        "amount": None if r.amount is None else format_amount(r.amount),
        "reason": r.reason,
        "description": r.description,
        "failure_reason": r.failure_reason,
        "created_at": rfc3339(r.created_at),
        "processed_at": rfc3339(r.processed_at) if r.processed_at else None,
    }
