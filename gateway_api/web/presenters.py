"""Domain objects as the JSON (and CSV) the contract promises."""
from __future__ import annotations

import csv
import io

from gateway_api.domain.accounts import Account, IssuedSecret
from gateway_api.domain.money import format_amount
from gateway_api.domain.reports import PeriodReport
from gateway_api.domain.transactions import Transaction, rfc3339


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


def account(a: Account) -> dict:
    return {"id": a.id, "name": a.name, "disabled": a.disabled, "created_at": rfc3339(a.created_at)}


def issued_secret(issued: IssuedSecret) -> dict:
    return {"id": issued.account.id, "name": issued.account.name, "secret": issued.secret}


def report_row(r: PeriodReport) -> dict:
    return {
        "period": r.period,
        "approved_count": r.approved_count,
        "approved_volume": format_amount(r.approved_volume),
        "rejected_count": r.rejected_count,
        "rejected_by_reason": dict(sorted(r.rejected_by_reason.items())),
        "pending_count": r.pending_count,
    }


CSV_COLUMNS = ("period", "approved_count", "approved_volume", "rejected_count", "pending_count", "rejected_by_reason")


def report_csv(rows: list[PeriodReport]) -> str:
    """One line per period; reasons as ``reason=count`` pairs joined by ``; ``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        view = report_row(r)
        reasons = "; ".join(f"{reason}={count}" for reason, count in view["rejected_by_reason"].items())
        writer.writerow([view[column] for column in CSV_COLUMNS[:-1]] + [reasons])
    return out.getvalue()
