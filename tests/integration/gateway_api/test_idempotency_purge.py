"""Expired idempotency keys are purged (SQLite and MariaDB), and migration 0003 erases the
fingerprints that covered card data."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import sqlalchemy
from sqlalchemy import insert, select

from infra.runtime.db import build_engine, migrate

from gateway_api.adapters.idempotency_repository import SqlIdempotencyStore
from gateway_api.adapters.tables import idempotency_keys
from gateway_api.domain.idempotency import IdempotencyRecord
from gateway_api.migrations import SCRIPT_LOCATION
from tests.support.secrets import STRONG_SECRETS

NOW = datetime(2026, 11, 24, 12, 0)
OLD_FINGERPRINT = "ab" * 32  # an HMAC over number, CVV, ...: what 0001-era rows hold


def row(key: str, created_at: datetime, fingerprint: str = "v2:" + "cd" * 32) -> dict:
    return {
        "account_id": "acct_1",
        "idempotency_key": key,
        "fingerprint": fingerprint,
        "transaction_id": f"tx-{key}",
        "created_at": created_at,
        "completed": True,
    }


def keys_left(engine) -> dict[str, str]:
    with engine.connect() as connection:
        return dict(
            connection.execute(select(idempotency_keys.c.idempotency_key, idempotency_keys.c.fingerprint)).all()
        )


def test_the_purge_deletes_only_keys_created_before_the_cutoff(database_url):
    migrate(database_url, SCRIPT_LOCATION)
    engine = build_engine(database_url)
    cutoff = NOW - timedelta(hours=24)
    with engine.begin() as connection:
        connection.execute(
            insert(idempotency_keys),
            [row("expired", cutoff - timedelta(microseconds=1)), row("at-cutoff", cutoff), row("live", NOW)],
        )
    store = SqlIdempotencyStore(engine)
    assert store.purge(cutoff) == 1
    assert set(keys_left(engine)) == {"at-cutoff", "live"}
    assert store.purge(cutoff) == 0
    # A purged key is free again: the next claim under it starts a new transaction.
    fresh = store.claim(IdempotencyRecord("acct_1", "expired", "v2:x", "tx-new", NOW), expired_before=cutoff)
    assert fresh.transaction_id == "tx-new"
    engine.dispose()


def test_migration_0003_erases_fingerprints_that_covered_card_data_and_widens_the_column(database_url):
    migrate(database_url, SCRIPT_LOCATION, revision="0001")
    engine = build_engine(database_url)
    with engine.begin() as connection:
        connection.execute(insert(idempotency_keys), [row("old", NOW, OLD_FINGERPRINT)])
    migrate(database_url, SCRIPT_LOCATION)
    assert keys_left(engine) == {"old": ""}
    with engine.begin() as connection:  # "v2:" + 64 hex characters did not fit VARCHAR(64)
        connection.execute(insert(idempotency_keys), [row("new", NOW, "v2:" + "ef" * 32)])
    assert keys_left(engine)["new"] == "v2:" + "ef" * 32
    indexes = {index["name"] for index in sqlalchemy.inspect(engine).get_indexes("gateway_idempotency_keys")}
    assert "ix_gateway_idempotency_keys_created" in indexes
    engine.dispose()


def test_the_purge_command_prints_how_many_keys_went_and_leaves_nothing_in_its_working_directory(sqlite_url, tmp_path):
    migrate(sqlite_url, SCRIPT_LOCATION)
    engine = build_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(
            insert(idempotency_keys),
            [row("ancient", datetime(2020, 1, 1)), row("today", datetime.now(timezone.utc).replace(tzinfo=None))],
        )
    env = {
        "PATH": "/usr/bin:/bin",
        **STRONG_SECRETS,
        "DATABASE_URL": sqlite_url,
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "PYTHONPATH": os.getcwd(),
    }
    where_the_operator_stands = tmp_path / "cwd"
    where_the_operator_stands.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "gateway_api", "idempotency", "purge"],
        env=env,
        cwd=where_the_operator_stands,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '{"purged": 1}'
    assert set(keys_left(engine)) == {"today"}
    # The default rate-limit store (sqlite:///var/rate-limits.db) is never opened by a command that
    # counts no request: it used to leave var/rate-limits.db wherever the operator ran it.
    assert list(where_the_operator_stands.iterdir()) == []
    engine.dispose()
