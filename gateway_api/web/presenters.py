"""Domain objects as the HTTP bodies (JSON, and CSV) the contract promises. Transactions and refunds, whose
shape the webhook events carry too, are ``gateway_api.adapters.resource_shapes``."""

from __future__ import annotations

import csv
import io

from infra.kernel.clock import rfc3339
from infra.kernel.money import format_amount

from gateway_api.domain.accounts import Account, IssuedSecret
from gateway_api.domain.deliveries import Attempt, Delivery
from gateway_api.domain.reports import PeriodReport
from gateway_api.domain.webhook_endpoints import WebhookEndpoint
from gateway_api.use_cases.webhook_endpoints import IssuedEndpointSecret


def account(a: Account) -> dict:
    return {
        "id": a.id,
        "name": a.name,
        "disabled": a.disabled,
        "created_at": rfc3339(a.created_at),
        "rate_limit_per_second": a.rate_limit_per_second,
    }


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
        "refunded": format_amount(r.refunded),
        "net": format_amount(r.net),
    }


CSV_COLUMNS = (
    "period",
    "approved_count",
    "approved_volume",
    "rejected_count",
    "pending_count",
    "refunded",
    "net",
    "rejected_by_reason",
)


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


# --- webhooks ---------------------------------------------------------------------------------------


def webhook_endpoint(e: WebhookEndpoint) -> dict:
    return {
        "id": e.id,
        "url": e.url,
        "description": e.description,
        "enabled_events": list(e.enabled_events),
        "status": e.status,
        "created_at": rfc3339(e.created_at),
    }


def issued_endpoint_secret(issued: IssuedEndpointSecret) -> dict:
    return webhook_endpoint(issued.endpoint) | {"secret": issued.secret}


def delivery(d: Delivery, with_attempts: bool = False) -> dict:
    view = {
        "id": d.id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "endpoint_id": d.endpoint_id,
        "url": d.endpoint_url,
        "status": d.status,
        "attempt_count": d.attempts,
        "next_attempt_at": _time(d.next_attempt_at),
        "last_attempt_at": _time(d.last_attempt_at),
        "last_http_status": d.last_http_status,
        "last_error": d.last_error,
        "created_at": rfc3339(d.created_at),
    }
    if with_attempts:
        view["attempts"] = [attempt(a) for a in d.history]
    return view


def attempt(a: Attempt) -> dict:
    return {
        "attempt": a.number,
        "attempted_at": rfc3339(a.attempted_at),
        "outcome": a.result.outcome,
        "http_status": a.result.http_status,
        "error": a.result.error,
        "duration_ms": round(a.result.duration_s * 1000),
        "response_body": a.result.response_body,
        "next_attempt_at": _time(a.next_attempt_at),
    }


def _time(moment) -> str | None:
    return rfc3339(moment) if moment else None
