"""The gateway API's composition root, the only place that builds engines, Kafka clients and use cases:

* ``create_app(settings)``: the merchant API (Flask), on ``build_services``;
* ``build_results_consumer(settings)``: ``python -m gateway_api.results``, the ledger updater;
* ``build_webhook_dispatcher(settings)``: ``python -m gateway_api.webhooks``.

The three share the ledger database; each migrates it at start only when ``AUTO_MIGRATE`` says so
(``infra.runtime.db.migrate_if_enabled``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from confluent_kafka import Consumer
from flask import Flask
from sqlalchemy import Engine

from infra.kernel.clock import utc_now
from infra.runtime.consumer_loop import BatchConsumerLoop, LoopSettings
from infra.runtime.db import build_engine, migrate_if_enabled
from infra.runtime.dead_letters import DeadLetterPublisher
from infra.runtime.flask_app import WsgiFlask
from infra.runtime.group_commit import GroupCommit
from infra.runtime.health import Heartbeat, Probes, schema_check
from infra.runtime.kafka import build_acked_producer, consumer_config
from infra.runtime.logs import configure_logging
from infra.runtime.metrics import instrument_flask, metrics_for
from infra.runtime.offset_gaps import OffsetGaps
from infra.runtime.poison import OutageOrPoison, database_answers
from infra.runtime.proxies import trust_proxies
from infra.runtime.rate_limits import RateLimiter
from infra.runtime.topic_router import TopicRouter

from gateway_api.adapters.accounts_repository import CachedAccounts, SqlAccounts
from gateway_api.adapters.audit_repository import SqlAuditLog
from gateway_api.adapters.card_sealer import AesGcmCardSealer
from gateway_api.adapters.delivery_queue import SqlDeliveryQueue
from gateway_api.adapters.dns import SystemResolver
from gateway_api.adapters.events_repository import SqlEvents
from gateway_api.adapters.idempotency_repository import SqlIdempotencyStore
from gateway_api.adapters.ledger_repository import SqlLedger
from gateway_api.adapters.metrics import ApiMetrics, AuditMetrics, ResultsMetrics, WebhookMetrics
from gateway_api.adapters.one_time_codes import TotpCodes
from gateway_api.adapters.operators_repository import SqlOperators
from gateway_api.adapters.publisher import KafkaTransactionPublisher
from gateway_api.adapters.refunds_repository import SqlRefunds
from gateway_api.adapters.secret_box import AesGcmSecretBox
from gateway_api.adapters.sessions_repository import SqlSessions
from gateway_api.adapters.webhook_endpoints_repository import SqlWebhookEndpoints
from gateway_api.adapters.webhook_http import HttpWebhookSender
from gateway_api.cli import accounts_cli, audit_cli, idempotency_cli, migrate_cli, operators_cli
from gateway_api.domain.accounts import SecretHasher
from gateway_api.domain.refunds import new_refund_id
from gateway_api.domain.transactions import new_transaction_id
from gateway_api.entrypoints.delivery_loop import DeliveryLoop
from gateway_api.entrypoints.oldest_pending import OldestPending
from gateway_api.entrypoints.refund_result_handler import RefundResultBatchHandler
from gateway_api.entrypoints.result_handler import ResultBatchHandler
from gateway_api.entrypoints.results_consumer import ResultsConsumer
from gateway_api.entrypoints.webhook_dispatcher import WebhookDispatcher
from gateway_api.migrations import SCRIPT_LOCATION as MIGRATIONS
from gateway_api.migrations import VERSION_TABLE
from gateway_api.settings import ResultsSettings, Settings, WebhookSettings
from gateway_api.use_cases.accept_refund import AcceptRefund
from gateway_api.use_cases.accept_transaction import AcceptTransaction
from gateway_api.use_cases.accounts import Accounts
from gateway_api.use_cases.apply_results import ApplyRefundResults, ApplyResults
from gateway_api.use_cases.audit import AuditTrail, AuditWatch
from gateway_api.use_cases.deliver_webhooks import DeliverWebhooks
from gateway_api.use_cases.events import Events
from gateway_api.use_cases.operators import Operators
from gateway_api.use_cases.purge_idempotency_keys import PurgeExpiredKeys
from gateway_api.use_cases.sessions import Sessions
from gateway_api.use_cases.webhook_endpoints import WebhookEndpoints
from gateway_api.web import (
    accounts,
    audit_events,
    events,
    health,
    operators,
    refunds,
    reports,
    sessions,
    transactions,
    webhook_endpoints,
)
from gateway_api.web.audit import track_request_ids
from gateway_api.web.docs import GatewayApi, openapi_config, register_docs
from gateway_api.web.errors import register_error_handlers
from gateway_api.web.merchant_fast_path import MerchantFastPath
from gateway_api.web.parsing import refuse_undeclared_query
from gateway_api.web.rate_limits import register_rate_limits
from gateway_api.web.request_logging import log_requests


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
    rate_limiter: RateLimiter
    operators: Operators
    audit: AuditTrail
    refunds: SqlRefunds
    accept_refund: AcceptRefund
    writes: GroupCommit

    def close(self) -> None:
        """What an app that stops holds, handed back: the producer (flushed), the group commit's
        connection, the rate-limit store's, then the pool. Left to the GC instead, a held connection
        is rolled back from a finalizer whenever the GC runs, long after the app is gone."""
        self.publisher.close()
        self.writes.release()
        self.rate_limiter.close()
        self.engine.dispose()


def build_services(settings: Settings) -> Services:
    # The pool's default (5, +10 overflow) is enough for 16 threads: a POST reads nothing (accounts
    # are cached) and writes through the group commit's one connection.
    engine = ledger_engine(settings)
    hasher = SecretHasher(settings.secret_pepper.reveal())
    metrics = metrics_for(ApiMetrics)
    writes = GroupCommit(engine, name="ledger-group-commit")
    ledger = SqlLedger(engine, writes)
    publisher = KafkaTransactionPublisher(
        settings.kafka, settings.publish_timeout_seconds, metrics.published, settings.producer_linger_ms
    )
    keys, ttl = SqlIdempotencyStore(engine, writes), timedelta(hours=settings.idempotency_ttl_hours)
    accept = AcceptTransaction(
        ledger,
        keys,
        publisher,
        AesGcmCardSealer(settings.card_data_keys),
        hasher,
        utc_now,
        new_transaction_id,
        settings.publish_timeout_seconds,
        ttl,
        metrics.ledger_write_failed,
    )
    account_store = SqlAccounts(engine)
    # Requests authenticate through the cache; panel sessions re-check against the database itself.
    accounts = Accounts(CachedAccounts(account_store, settings.auth_cache_seconds), hasher, utc_now)
    operator_store, box = SqlOperators(engine), AesGcmSecretBox(settings.webhook_secrets_key)
    panel_sessions = Sessions(
        SqlSessions(engine),
        account_store,
        hasher,
        settings.admin_token.reveal(),
        utc_now,
        operator_store,
        settings.admin_token_enabled,
    )
    endpoints = SqlWebhookEndpoints(engine)
    webhooks = WebhookEndpoints(
        endpoints, box, SystemResolver(), utc_now, settings.webhook_allow_private_urls, settings.webhook_allowed_ports
    )
    refund_ledger = SqlRefunds(engine)
    accept_refund = AcceptRefund(
        ledger,
        refund_ledger,
        keys,
        publisher,
        hasher,
        utc_now,
        new_refund_id,
        settings.publish_timeout_seconds,
        ttl,
    )
    limiter = RateLimiter(
        settings.rate_limit_storage_url,
        settings.rate_limit_key_prefix,
        on_store_failure=metrics.rate_limit_store_failed,
    )
    return Services(
        settings,
        engine,
        accounts,
        ledger,
        publisher,
        accept,
        PurgeExpiredKeys(keys, utc_now, ttl),
        metrics,
        panel_sessions,
        webhooks,
        Events(SqlEvents(engine), endpoints, utc_now),
        limiter,
        Operators(operator_store, TotpCodes(), box, utc_now),
        audit_trail(settings, engine),
        refund_ledger,
        accept_refund,
        writes,
    )


def audit_trail(settings: Settings | ResultsSettings, engine: Engine) -> AuditTrail:
    return AuditTrail(SqlAuditLog(engine), settings.audit_hmac_key.reveal().encode(), utc_now)


def create_app(settings: Settings | None = None) -> Flask:
    """Without settings (gunicorn, flask CLI) they come from the environment and logs go out as JSON;
    tests pass their own settings and keep pytest's log capture."""
    from_env = settings is None
    if settings is None:
        settings = Settings.from_env()
    app = WsgiFlask(__name__)
    app.config.update(openapi_config(), MAX_CONTENT_LENGTH=settings.max_body_bytes)
    app.extensions["gateway_api"] = build_services(settings)
    if from_env:
        configure_logging("gateway_api", settings.log_level)
    api = GatewayApi(app)
    register_docs(app, api)
    for blueprint in (
        accounts.blp,
        transactions.blp,
        refunds.blp,
        reports.blp,
        sessions.blp,
        webhook_endpoints.blp,
        events.blp,
        events.deliveries_blp,
        operators.blp,
        audit_events.blp,
    ):
        api.register_blueprint(blueprint)
    app.register_blueprint(health.blp)
    register_error_handlers(app, settings.retry_after_seconds)
    instrument_flask(app, "gateway_api")
    track_request_ids(app)
    log_requests(app)
    register_rate_limits(app)  # after the timers and the log: 429s are timed and logged too
    refuse_undeclared_query(app)  # after the timers: refused requests are timed and logged too
    app.wsgi_app = MerchantFastPath(app, app.wsgi_app, settings.retry_after_seconds)  # type: ignore[method-assign]
    trust_proxies(app, settings.trusted_proxy_hops)  # outermost: every path sees the client's address
    app.cli.add_command(accounts_cli)
    app.cli.add_command(migrate_cli)
    app.cli.add_command(idempotency_cli)
    app.cli.add_command(operators_cli)
    app.cli.add_command(audit_cli)
    return app


# -- the ledger database, as every process of the gateway API opens it ------------------------------


def ledger_engine(settings: Settings | ResultsSettings | WebhookSettings) -> Engine:
    """The ledger's engine, migrated first when this process decides migrations (AUTO_MIGRATE)."""
    engine = build_engine(settings.database_url)
    migrate_if_enabled(settings, MIGRATIONS)
    return engine


def worker_probes(heartbeat: Heartbeat, settings: ResultsSettings | WebhookSettings, engine: Engine) -> Probes:
    """/healthz from the loop's heartbeat; /readyz also waits for this release's ledger schema."""
    return Probes(heartbeat, settings.liveness_stall_seconds, [schema_check(engine, MIGRATIONS, VERSION_TABLE)])


# -- python -m gateway_api.results ------------------------------------------------------------------

DEAD_LETTER_TIMEOUT_SECONDS = 10


def build_results_consumer(settings: ResultsSettings) -> ResultsConsumer:
    """A consumer subscribed to the results topic, writing to the ledger; run it with a stop event."""
    engine = ledger_engine(settings)
    metrics = metrics_for(ResultsMetrics)
    config = consumer_config(
        settings.kafka,
        "gateway-results",
        settings.group_id,
        **{"statistics.interval.ms": 5000, "stats_cb": metrics.lag_stats_callback()},
    )
    dead_letters = DeadLetterPublisher(
        build_acked_producer(settings.kafka, "gateway-results"), settings.kafka.topics.dlq, DEAD_LETTER_TIMEOUT_SECONDS
    )
    loop_settings = LoopSettings(batch_size=settings.batch_size, poll_timeout=settings.poll_timeout)
    ledger = SqlLedger(engine)
    topics = settings.kafka.topics
    payments = ResultBatchHandler(ApplyResults(ledger), dead_letters, metrics, OutageOrPoison(database_answers(engine)))
    refunds = RefundResultBatchHandler(ApplyRefundResults(SqlRefunds(engine)), dead_letters, metrics)
    handler = TopicRouter({topics.results: payments, topics.refunds_result: refunds})
    loop = BatchConsumerLoop(
        Consumer(config), handler, loop_settings, OffsetGaps(on_accept=metrics.offset_gaps_accepted.inc)
    )
    loop.subscribe(
        [topics.results, topics.refunds_result],
        metrics.assigned_partitions,
        metrics.partition_assignments,
        static=settings.kafka.static_assignment,
    )
    purge = PurgeExpiredKeys(SqlIdempotencyStore(engine), utc_now, timedelta(hours=settings.idempotency_ttl_hours))
    watch = AuditWatch(audit_trail(settings, engine), metrics_for(AuditMetrics).checked)
    return ResultsConsumer(
        loop,
        engine,
        worker_probes(loop.heartbeat, settings, engine),
        purge,
        OldestPending(ledger, metrics.oldest_pending, utc_now),
        watch,
        settings.audit_check_seconds,
    )


# -- python -m gateway_api.webhooks -----------------------------------------------------------------


def build_webhook_dispatcher(settings: WebhookSettings) -> WebhookDispatcher:
    """A dispatcher over the ledger database's deliveries; run it with a stop event."""
    engine = ledger_engine(settings)
    queue = SqlDeliveryQueue(engine)
    sender = HttpWebhookSender(SystemResolver(), settings.allow_private_urls, allowed_ports=settings.allowed_ports)
    deliver = DeliverWebhooks(
        queue,
        sender,
        AesGcmSecretBox(settings.secrets_key),
        settings.retry_schedule,
        utc_now,
        timedelta(seconds=settings.lease_seconds),
        settings.timeout_seconds,
    )
    loop = DeliveryLoop(
        deliver, queue, settings, utc_now, metrics_for(WebhookMetrics), OutageOrPoison(database_answers(engine))
    )
    return WebhookDispatcher(loop, engine, sender, worker_probes(loop.heartbeat, settings, engine))
