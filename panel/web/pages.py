"""The HTML pages: the live view and the reports; the data comes from ``/api`` and ``/stream``."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from panel.web import api
from panel.web.auth import login_required
from panel.web.context import panel

bp = Blueprint("pages", __name__)


@bp.get("/")
@login_required(check_with_gateway=True)
def live():
    return render_template("live.html", principal=g.principal)


@bp.get("/reports")
@login_required(check_with_gateway=True)
def reports():
    return render_template("reports.html", principal=g.principal)


@bp.get("/reports.csv")
@login_required
def reports_csv():
    return api.reports_csv()


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    ready = panel().is_ready()
    return {"status": "ready" if ready else "starting"}, 200 if ready else 503
