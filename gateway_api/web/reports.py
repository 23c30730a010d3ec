"""GET /v1/reports: ledger totals per day, month or year, as JSON or CSV."""

from __future__ import annotations

from flask import Response, current_app, request

from gateway_api.domain.reports import roll_up
from gateway_api.web import presenters
from gateway_api.web.auth import ADMIN, MERCHANT, requires
from gateway_api.web.blueprint import Blueprint
from gateway_api.web.docs import AUTHENTICATED, error_responses
from gateway_api.web.schemas import ReportQuerySchema, ReportSchema
from gateway_api.web.transactions import scope_account

CSV_HEADERS = {
    "Content-Disposition": {
        "schema": {"type": "string"},
        "description": 'attachment; filename="report-<period>-<from>-<to>.csv"',
    }
}
blp = Blueprint("reports", __name__, url_prefix="/v1/reports", description="Financial reports")


@blp.route("", methods=["GET"])
@blp.doc(security=[{"basicAuth": []}, {"adminToken": []}, {"panelSession": []}])
@requires(MERCHANT, ADMIN, session=True)
@blp.arguments(ReportQuerySchema, location="query")
@blp.response(200, ReportSchema)
@blp.alt_response(
    200,
    success=True,
    content_type="text/csv",
    schema={"type": "string"},
    description=("Totals per period: JSON, or CSV with format=csv or Accept: text/csv (then with Content-Disposition)"),
    headers=CSV_HEADERS,
)
@error_responses(blp, *AUTHENTICATED, 422)
def get_report(args):
    services = current_app.extensions["gateway_api"]
    account_id = scope_account(args.get("account_id"))
    totals = services.ledger.daily_totals(account_id, args["first"], args["last"])
    totals += services.refunds.daily_refunded(account_id, args["first"], args["last"])
    rows = roll_up(totals, args["period"])
    if _wants_csv(args.get("format")):
        filename = f"report-{args['period']}-{args['first']}-{args['last']}.csv"
        return Response(
            presenters.report_csv(rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return {
        "period": args["period"],
        "first": args["first"].isoformat(),
        "last": args["last"].isoformat(),
        "data": [presenters.report_row(r) for r in rows],
    }


def _wants_csv(format_: str | None) -> bool:
    if format_ is not None:
        return format_ == "csv"
    return request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"
