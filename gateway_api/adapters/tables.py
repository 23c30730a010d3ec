"""The ledger's tables (SQLAlchemy Core). Migrations in gateway_api/migrations create the same."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.dialects import mysql

from infra.kernel.contracts import MAX_ID_LENGTH

metadata = MetaData()

# Microsecond timestamps on MySQL too (its DATETIME defaults to whole seconds): cursor pagination
# orders by created_at and needs the same precision everywhere. Always naive UTC.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
# Transaction and account ids as the contract has them: up to 100 characters, compared byte for byte
# like the processor's (MySQL's default collation would make "Tx-1" and "tx-1" one row).
Identifier = String(MAX_ID_LENGTH).with_variant(
    mysql.VARCHAR(MAX_ID_LENGTH, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)

accounts = Table(
    "gateway_accounts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", Timestamp, nullable=False),
    Column("rate_limit_per_second", Integer, nullable=True),
)

transactions = Table(
    "gateway_transactions",
    metadata,
    Column("id", Identifier, primary_key=True),
    Column("account_id", Identifier, nullable=False),
    Column("status", String(16), nullable=False),
    Column("amount_cents", BigInteger, nullable=True),
    Column("card_brand", String(32), nullable=True),
    Column("card_last4", String(4), nullable=True),
    Column("description", String(255), nullable=True),
    Column("error_message", String(255), nullable=False, default=""),
    Column("created_at", Timestamp, nullable=False),
    Column("processed_at", Timestamp, nullable=True),
    Index("ix_gateway_transactions_account_created", "account_id", "created_at", "id"),
    Index("ix_gateway_transactions_created", "created_at", "id"),
    # The oldest pending row (an alert's metric) without a scan.
    Index("ix_gateway_transactions_status_created", "status", "created_at"),
)

idempotency_keys = Table(
    "gateway_idempotency_keys",
    metadata,
    Column("account_id", String(64), primary_key=True),
    # Keys are case-sensitive (MySQL's default collation is not).
    Column(
        "idempotency_key",
        String(255).with_variant(mysql.VARCHAR(255, collation="utf8mb4_bin"), "mysql", "mariadb"),
        primary_key=True,
    ),
    # "v2:" + HMAC-SHA256 hex of what the ledger keeps (gateway_api.domain.idempotency).
    Column("fingerprint", String(80), nullable=False),
    Column("transaction_id", String(64), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    # No longer read or set: a key replays once its ledger (or refund) row exists. Written false for the
    # API replicas of a rolling upgrade still reading it (they re-send the same id, which is harmless);
    # a later migration drops it.
    Column("completed", Boolean, nullable=False, default=False),
    Index("ix_gateway_idempotency_keys_created", "created_at"),  # the purge
)

# Sessions of the live panel (gateway_api.domain.sessions): only HMAC(pepper, token) is kept.
sessions = Table(
    "gateway_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("account_id", Identifier, nullable=True),
    Column("credential_hash", String(64), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Index("ix_gateway_sessions_expires", "expires_at"),
)

# --- webhooks (migration 0004_webhooks) -------------------------------------------------------------

# SQLite only auto-increments an INTEGER PRIMARY KEY; MySQL gets a BIGINT.
AutoId = BigInteger().with_variant(Integer, "sqlite")

webhook_endpoints = Table(
    "gateway_webhook_endpoints",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", Identifier, nullable=False),
    Column("url", String(2048), nullable=False),
    Column("description", String(255), nullable=True),
    Column("enabled_events", String(255), nullable=False),  # comma-separated, or "*"
    Column("status", String(16), nullable=False),
    # AES-GCM of the signing secret, bound to the endpoint id (never the secret itself).
    Column("secret_ciphertext", String(255), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("deleted_at", Timestamp, nullable=True),
    # Set by the first failed attempt after a success, cleared by the next success (alerting).
    Column("failing_since", Timestamp, nullable=True),
    Index("ix_gateway_webhook_endpoints_account", "account_id", "status"),
)

events = Table(
    "gateway_events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", Identifier, nullable=False),
    Column("type", String(40), nullable=False),
    Column("transaction_id", Identifier, nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Index("ix_gateway_events_account_created", "account_id", "created_at", "id"),
    Index("ix_gateway_events_created", "created_at"),
)

webhook_deliveries = Table(
    "gateway_webhook_deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("event_id", String(40), nullable=False),
    Column("endpoint_id", String(40), nullable=False),
    Column("account_id", Identifier, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Timestamp, nullable=True),
    # The lease: while locked_until is in the future, lock_token's dispatcher owns the delivery.
    Column("locked_until", Timestamp, nullable=True),
    Column("lock_token", String(32), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("last_attempt_at", Timestamp, nullable=True),
    Column("last_http_status", Integer, nullable=True),
    Column("last_error", String(255), nullable=True),
    Index("ix_gateway_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_gateway_webhook_deliveries_event", "event_id"),
    Index("ix_gateway_webhook_deliveries_account_created", "account_id", "created_at", "id"),
    Index("ix_gateway_webhook_deliveries_lock", "lock_token"),
)

webhook_attempts = Table(
    "gateway_webhook_attempts",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("delivery_id", String(40), nullable=False),
    Column("number", Integer, nullable=False),
    Column("attempted_at", Timestamp, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("http_status", Integer, nullable=True),
    Column("error", String(255), nullable=True),
    Column("response_body", String(1024), nullable=True),  # at most 1 KiB of what the receiver answered
    Column("next_attempt_at", Timestamp, nullable=True),
    Index("ix_gateway_webhook_attempts_delivery", "delivery_id", "number"),
)

# --- operators and the audit trail (migration 0007_operators_audit) ---------------------------------

BinaryText = String(200).with_variant(
    mysql.VARCHAR(200, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)

# Named operators (gateway_api.domain.operators): only a scrypt hash of each credential is kept.
operators = Table(
    "gateway_operators",
    metadata,
    Column("id", String(40), primary_key=True),
    Column(
        "name",
        String(100).with_variant(mysql.VARCHAR(100, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"),
        nullable=False,
        unique=True,
    ),
    Column("credential_hash", String(255), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("disabled_at", Timestamp, nullable=True),
    Column("totp_secret", String(255), nullable=True),  # sealed under WEBHOOK_SECRETS_KEY, bound to the id
    Column("totp_required", Boolean, nullable=False, default=False),
)

# The audit trail (gateway_api.domain.audit): append-only, each row chained to the one before.
audit_events = Table(
    "gateway_audit_events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("id", String(40), nullable=False, unique=True),
    Column("at", Timestamp, nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("actor", BinaryText, nullable=False),
    Column("credential", String(32), nullable=False),
    Column("account_id", BinaryText, nullable=True),
    Column("action", String(64), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", BinaryText, nullable=True),
    Column("request_id", String(64), nullable=True),
    Column("client_address", String(64), nullable=True),
    Column("outcome", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_gateway_audit_events_account", "account_id", "seq"),
)

# --- refunds (migration 0008_refunds) ---------------------------------------------------------------

refunds = Table(
    "gateway_refunds",
    metadata,
    Column("id", Identifier, primary_key=True),
    Column("account_id", Identifier, nullable=False),
    Column("transaction_id", Identifier, nullable=False),
    Column("status", String(16), nullable=False),
    Column("amount_cents", BigInteger, nullable=True),
    Column("reason", String(32), nullable=True),
    Column("description", String(255), nullable=True),
    Column("failure_reason", String(40), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("processed_at", Timestamp, nullable=True),
    Index("ix_gateway_refunds_account_created", "account_id", "created_at", "id"),
    Index("ix_gateway_refunds_transaction", "transaction_id", "status"),
)
