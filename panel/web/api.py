"""JSON for the panel's own pages, fetched from the gateway API with the signed-in user's credential.

Merchant scoping is enforced twice: the gateway API scopes by the merchant's credential, and the
panel never forwards an ``account_id`` filter for a merchant.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, Response, abort, g, jsonify, request

from panel.web.auth import login_required, signed_in_credential
from panel.web.context import panel

bp = Blueprint("api", __name__, url_prefix="/api")

STATUSES = {"pending", "approved", "rejected"}
PAGE_SIZE = 100
WINDOW_MINUTES = 15


@bp.get("/transactions")
@login_required
def transactions():
    params = {
        "status": _status(request.args.get("status")),
        "limit": min(request.args.get("limit", 50, type=int) or 50, PAGE_SIZE),
        "starting_after": request.args.get("starting_after"),
        "account_id": g.principal.scope(request.args.get("account_id")) if g.principal.is_admin else None,
    }
    return jsonify(_gateway_json("/v1/transactions", params))


@bp.get("/transactions/<transaction_id>")
@login_required
def transaction(transaction_id: str):
    return jsonify(_gateway_json(panel().gateway.transaction_path(transaction_id)))


@bp.get("/recent")
@login_required
def recent():
    """The newest transactions of the last 15 minutes from the ledger (one API call, at most 100): the
    baseline that live events then keep current; ``truncated`` when the window holds more."""
    now = datetime.now(timezone.utc)
    cutoff = (now - timedelta(minutes=WINDOW_MINUTES)).isoformat()
    account = g.principal.scope(request.args.get("account_id")) if g.principal.is_admin else None
    page = _gateway_json("/v1/transactions", {"limit": PAGE_SIZE, "created_after": cutoff, "account_id": account})
    return jsonify(
        {
            "data": page.get("data", []),
            "truncated": bool(page.get("has_more")),
            "now": now.isoformat(),
            "minutes": WINDOW_MINUTES,
        }
    )


@bp.get("/accounts")
@login_required
def accounts():
    if not g.principal.is_admin:
        abort(403)
    return jsonify(_gateway_json("/v1/accounts"))


@bp.get("/reports")
@login_required
def reports():
    return jsonify(_gateway_json("/v1/reports", _report_params()))


def reports_csv() -> Response:
    params = _report_params()
    document = panel().gateway.get_csv(signed_in_credential(), "/v1/reports", params | {"format": "csv"})
    filename = f"report-{params['period']}-{params['from']}-{params['to']}.csv"
    return Response(
        document.content,
        content_type=document.content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _report_params() -> dict:
    args = request.args
    return {
        "period": args.get("period", "day"),
        "from": args.get("from", ""),
        "to": args.get("to", ""),
        "account_id": g.principal.scope(args.get("account_id")) if g.principal.is_admin else None,
    }


def _gateway_json(path: str, params: dict | None = None) -> dict:
    return panel().gateway.get_json(signed_in_credential(), path, params)


def _status(value: str | None) -> str | None:
    return value if value in STATUSES else None
