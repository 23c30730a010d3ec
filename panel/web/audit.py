"""The Audit page: the gateway API's audit trail (``GET /v1/audit_events``), newest first, 50 a page.
Operators see every entry, a merchant those of its own account; rendered on the server (escaped)."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request

from panel.use_cases.ports import GatewayRefused
from panel.web.auth import login_required, signed_in_credential
from panel.web.context import panel

bp = Blueprint("audit", __name__)
PAGE_SIZE = 50


@bp.get("/audit")
@login_required(check_with_gateway=True)
def page():
    params = {"limit": PAGE_SIZE, "starting_after": request.args.get("starting_after", "")[:40]}
    try:
        body = panel().gateway.get_json(signed_in_credential(), "/v1/audit_events", params)
    except GatewayRefused as exc:
        message = (exc.body.get("error") or {}).get("message", "The gateway refused the request.")
        return render_template("audit.html", principal=g.principal, entries=[], has_more=False, error=message), 400
    entries = body.get("data") if isinstance(body.get("data"), list) else []
    return render_template(
        "audit.html", principal=g.principal, entries=entries, has_more=bool(body.get("has_more")), error=None
    )
