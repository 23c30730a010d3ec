"""GET /v1/audit_events: the audit trail, newest first; operators see every entry, a merchant its own."""

from __future__ import annotations

from flask import current_app, g

from infra.kernel.clock import rfc3339

from gateway_api.domain.audit import AuditEntry
from gateway_api.web.audit_schemas import AuditEventListQuerySchema, AuditEventPageSchema
from gateway_api.web.auth import ADMIN, MERCHANT, requires
from gateway_api.web.blueprint import Blueprint
from gateway_api.web.docs import AUTHENTICATED, error_responses

blp = Blueprint(
    "audit_events",
    __name__,
    url_prefix="/v1/audit_events",
    description="Who changed which configuration, from where, when (append-only, hash-chained)",
)


@blp.route("", methods=["GET"])
@blp.doc(security=[{"basicAuth": []}, {"adminToken": []}, {"panelSession": []}])
@requires(MERCHANT, ADMIN, session=True)
@blp.arguments(AuditEventListQuerySchema, location="query")
@blp.response(200, AuditEventPageSchema)
@error_responses(blp, *AUTHENTICATED, 422)
def list_audit_events(args):
    """Page with ``starting_after=<the last id you got>`` while ``has_more``."""
    account_id = None if g.principal.is_admin else g.principal.account_id
    entries, has_more = current_app.extensions["gateway_api"].audit.page(
        account_id, args["limit"], args.get("starting_after")
    )
    return {"data": [audit_event(entry) for entry in entries], "has_more": has_more}


def audit_event(entry: AuditEntry) -> dict:
    return {**vars(entry), "at": rfc3339(entry.at)}
