"""The API's composition root: settings in, a wired Flask app out."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import Flask
from sqlalchemy import Engine

from infra.db import build_engine, migrate
from infra.group_commit import GroupCommit
from infra.logs import configure_logging
from infra.metrics import instrument_flask

from gateway_api.adapters.accounts_repository import CachedAccounts, SqlAccounts
from gateway_api.adapters.card_sealer import AesGcmCardSealer
from gateway_api.adapters.dns import SystemResolver
from gateway_api.adapters.events_repository import SqlEvents
from gateway_api.adapters.idempotency_repository import SqlIdempotencyStore
from gateway_api.adapters.ledger_repository import SqlLedger
from gateway_api.adapters.publisher import KafkaTransactionPublisher
from gateway_api.adapters.secret_box import AesGcmSecretBox
from gateway_api.adapters.sessions_repository import SqlSessions
from gateway_api.adapters.webhook_endpoints_repository import SqlWebhookEndpoints
from gateway_api.domain.accounts import SecretHasher
from gateway_api.metrics import ApiMetrics
from gateway_api.migrations import SCRIPT_LOCATION as MIGRATIONS
from gateway_api.settings import Settings
from gateway_api.use_cases.accept_transaction import AcceptTransaction
from gateway_api.use_cases.accounts import Accounts
from gateway_api.use_cases.events import Events
from gateway_api.use_cases.purge_idempotency_keys import PurgeExpiredKeys
from gateway_api.use_cases.sessions import Sessions
from gateway_api.use_cases.webhook_endpoints import WebhookEndpoints
from gateway_api.web import accounts, events, health, reports, sessions, transactions, webhook_endpoints
from gateway_api.cli import accounts_cli, idempotency_cli, migrate_cli
from gateway_api.web.docs import GatewayApi, openapi_config, register_docs
from gateway_api.web.errors import register_error_handlers
from gateway_api.web.parsing import refuse_undeclared_query
from gateway_api.web.request_logging import log_requests


def utc_now() -> datetime:
    """Naive UTC, as the ledger stores it."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    accounts: Accounts
    ledger: SqlLedger
    publisher: KafkaTransactionPublisher
    accept_transaction: AcceptTransaction
    purge_expired_keys: PurgeExpiredKeys
    metrics: ApiMetrics
    sessions: Sessions
    webhook_endpoints: WebhookEndpoints
    events: Events


def build_services(settings: Settings) -> Services:
    # The pool's default (5, +10 overflow) is enough for 16 threads: a POST reads nothing (accounts
    # are cached) and writes through the group commit's one connection.
    engine = build_engine(settings.database_url)
    if settings.auto_migrate:
        migrate(settings.database_url, MIGRATIONS)
    hasher = SecretHasher(settings.secret_pepper.reveal())
    metrics = ApiMetrics()
    writes = GroupCommit(engine, name="ledger-group-commit")
    ledger = SqlLedger(engine, writes)
    publisher = KafkaTransactionPublisher(settings.kafka, settings.publish_timeout_seconds, metrics.published,
                                          settings.producer_linger_ms)
    keys, ttl = SqlIdempotencyStore(engine, writes), timedelta(hours=settings.idempotency_ttl_hours)
    accept = AcceptTransaction(ledger, keys, publisher, AesGcmCardSealer(settings.card_data_keys), hasher, utc_now,
                               lambda: str(uuid.uuid4()), settings.publish_timeout_seconds, ttl,
                               metrics.ledger_write_failed)
    account_store = SqlAccounts(engine)
    # Requests authenticate through the cache; panel sessions re-check against the database itself.
    accounts = Accounts(CachedAccounts(account_store, settings.auth_cache_seconds), hasher, utc_now)
    panel_sessions = Sessions(SqlSessions(engine), account_store, hasher, settings.admin_token.reveal(), utc_now)
    endpoints = SqlWebhookEndpoints(engine)
    webhooks = WebhookEndpoints(endpoints, AesGcmSecretBox(settings.webhook_secrets_key), SystemResolver(), utc_now,
                                settings.webhook_allow_private_urls)
    return Services(settings, engine, accounts, ledger, publisher, accept, PurgeExpiredKeys(keys, utc_now, ttl),
                    metrics, panel_sessions, webhooks, Events(SqlEvents(engine), endpoints, utc_now))


def create_app(settings: Settings | None = None) -> Flask:
    """Without settings (gunicorn, flask CLI) they come from the environment and logs go out as JSON;
    tests pass their own settings and keep pytest's log capture."""
    from_env = settings is None
    settings = Settings.from_env() if from_env else settings
    app = Flask(__name__)
    app.config.update(openapi_config(), MAX_CONTENT_LENGTH=settings.max_body_bytes)
    app.extensions["gateway_api"] = build_services(settings)
    if from_env:
        configure_logging("gateway_api", settings.log_level)
    api = GatewayApi(app)
    register_docs(app, api)
    for blueprint in (accounts.blp, transactions.blp, reports.blp, sessions.blp, webhook_endpoints.blp, events.blp,
                      events.deliveries_blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(health.blp)
    register_error_handlers(app, settings.retry_after_seconds)
    instrument_flask(app, "gateway_api")
    log_requests(app)
    refuse_undeclared_query(app)  # after the timers: refused requests are timed and logged too
    app.cli.add_command(accounts_cli)
    app.cli.add_command(migrate_cli)
    app.cli.add_command(idempotency_cli)
    return app
