"""The Webhooks page and its JSON: a merchant's endpoints (create, roll secret, delete), recent
deliveries and resends, all through the gateway API.

Reading uses the panel session (read-only by design). Changing needs the merchant's own secret,
typed on the page and sent with each change: the panel forwards it to the API for that one call and
keeps it nowhere, so a stolen panel cookie still cannot point a merchant's events at another server.
Webhook endpoints belong to a merchant: the operator sees the page but is told to sign in as one.
Only the fields the API defines are forwarded; the API validates them and its error JSON comes back.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, g, jsonify, render_template, request

from panel.domain.credential import Credential
from panel.use_cases.ports import NotAuthenticated
from panel.web.auth import login_required, signed_in_credential
from panel.web.context import panel

bp = Blueprint("webhooks", __name__)
DELIVERY_STATUSES = {"pending", "delivered", "failed", "canceled"}


@bp.get("/webhooks")
@login_required(check_with_gateway=True)
def page():
    return render_template("webhooks.html", principal=g.principal)


@bp.get("/api/webhook_endpoints")
@login_required
def endpoints():
    return jsonify(_gateway("GET", "/v1/webhook_endpoints"))


@bp.post("/api/webhook_endpoints")
@login_required
def create_endpoint():
    body = request.get_json(silent=True) or {}
    fields = {key: body[key] for key in ("url", "enabled_events", "description") if key in body}
    return jsonify(_gateway("POST", "/v1/webhook_endpoints", fields)), 201


@bp.post("/api/webhook_endpoints/<endpoint_id>/secret")
@login_required
def roll_secret(endpoint_id: str):
    return jsonify(_gateway("POST", f"/v1/webhook_endpoints/{_segment(endpoint_id)}/secret"))


@bp.delete("/api/webhook_endpoints/<endpoint_id>")
@login_required
def delete_endpoint(endpoint_id: str):
    return jsonify(_gateway("DELETE", f"/v1/webhook_endpoints/{_segment(endpoint_id)}"))


@bp.get("/api/webhook_deliveries")
@login_required
def deliveries():
    status = request.args.get("status")
    params = {
        "limit": min(request.args.get("limit", 50, type=int) or 50, 100),
        "status": status if status in DELIVERY_STATUSES else None,
    }
    return jsonify(_gateway("GET", "/v1/webhook_deliveries", params=params))


@bp.get("/api/events/<event_id>/deliveries")
@login_required
def event_deliveries(event_id: str):
    return jsonify(_gateway("GET", f"/v1/events/{_segment(event_id)}/deliveries"))


@bp.post("/api/events/<event_id>/resend")
@login_required
def resend(event_id: str):
    endpoint_id = (request.get_json(silent=True) or {}).get("endpoint_id")
    body = {"endpoint_id": endpoint_id} if endpoint_id else {}
    return jsonify(_gateway("POST", f"/v1/events/{_segment(event_id)}/resend", body)), 202


def _gateway(method: str, path: str, body: dict | None = None, params: dict | None = None) -> dict:
    if g.principal.is_admin:
        abort(403, description="Webhooks belong to a merchant: sign in with the merchant's account id and secret.")
    if method == "GET":
        return panel().gateway.get_json(signed_in_credential(), path, params)
    return _change(method, path, body)


def _change(method: str, path: str, body: dict | None) -> dict:
    secret = (request.get_json(silent=True) or {}).get("account_secret")
    if not isinstance(secret, str) or not secret.strip():
        abort(400, description="Enter your account secret: changing webhooks needs it.")
    credential = Credential.merchant(g.principal.account_id, secret.strip())
    try:
        return panel().gateway.send_json(credential, method, path, body)
    except NotAuthenticated:
        # The typed secret, not the session: the person stays signed in.
        abort(403, description="That account secret was not accepted.")


def _segment(value: str) -> str:
    return quote(value, safe="")
