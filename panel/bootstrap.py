"""The composition root of the panel: ``create_app(settings)`` builds and wires everything."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from infra.runtime.flask_app import WsgiFlask
from infra.runtime.logs import configure_logging
from infra.runtime.metrics import instrument_flask, metrics_for
from infra.runtime.proxies import trust_proxies
from infra.runtime.rate_limits import RateLimiter

from panel.adapters.gateway import GatewayClient
from panel.adapters.metrics import PanelMetrics
from panel.adapters.stream_leases import stream_leases
from panel.adapters.vault import CredentialVault, derive_key
from panel.entrypoints.refund_results import refund_to_event
from panel.entrypoints.results_reader import ResultsReader, result_to_event
from panel.settings import Settings
from panel.use_cases.hub import Hub
from panel.web import api, audit, auth, pages, stream, webhooks
from panel.web.bodies import init_bodies
from panel.web.context import Panel
from panel.web.csrf import init_csrf
from panel.web.errors import init_errors


def create_app(settings: Settings | None = None) -> Flask:
    if settings is None:
        settings = Settings.from_env()
        configure_logging("panel", settings.log_level)
    app = WsgiFlask(__name__)
    trust_proxies(app, settings.trusted_proxy_hops)
    _configure_session(app, settings)
    app.extensions["panel"] = _build_panel(settings)
    for blueprint in (auth.bp, pages.bp, api.bp, stream.bp, webhooks.bp, audit.bp):
        app.register_blueprint(blueprint)
    init_bodies(app)
    init_csrf(app)
    init_errors(app)
    instrument_flask(app, "panel")
    app.after_request(_security_headers)
    if app.extensions["panel"].reader is not None:
        app.extensions["panel"].reader.start()
    return app


def _configure_session(app: Flask, settings: Settings) -> None:
    app.config.update(
        SECRET_KEY=derive_key(settings.secret_key, "session-signing"),
        SESSION_COOKIE_NAME="panel_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
    )


def _build_panel(settings: Settings) -> Panel:
    hub, metrics = Hub(), metrics_for(PanelMetrics)

    def on_result(result) -> None:
        metrics.results_received.inc()
        hub.publish(result.account_id, result_to_event(result))

    def on_refund(refund) -> None:
        metrics.refunds_received.inc()
        hub.publish(refund.account_id, refund_to_event(refund), kind="refund")

    reader = (
        ResultsReader(
            settings.kafka,
            on_result,
            on_gap_accepted=metrics.offset_gaps_accepted.inc,
            on_refund=on_refund,
            on_unusable=metrics.unusable_messages.inc,
        )
        if settings.consume_results
        else None
    )
    return Panel(
        settings=settings,
        gateway=GatewayClient(settings.gateway_url, settings.gateway_timeout_seconds),
        vault=CredentialVault(settings.secret_key, settings.session_hours * 3600),
        hub=hub,
        reader=reader,
        metrics=metrics,
        limiter=RateLimiter(settings.rate_limit_storage_url, settings.rate_limit_key_prefix),
        stream_leases=stream_leases(settings.rate_limit_storage_url, settings.rate_limit_key_prefix),
    )


def _security_headers(response):
    # Everything is served by the panel itself, so the policy can be strict.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
