"""The ledger's migrations on SQLite and MariaDB: existing rows survive, ids match the contract."""

from datetime import datetime
from decimal import Decimal

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect as sqlalchemy_inspect
from sqlalchemy import text

from infra.runtime.db import build_engine, migrate

from gateway_api.adapters.ledger_repository import SqlLedger
from gateway_api.domain.transactions import Card, Transaction, TransactionRequest
from gateway_api.migrations import SCRIPT_LOCATION

REQUEST = TransactionRequest(Decimal("10.50"), Card("4111111111111111", "Ada", 12, 2099, "987"))
AT = datetime(2026, 11, 23, 10, 0)


@pytest.fixture
def engine(database_url):
    engine = build_engine(database_url)
    yield engine
    engine.dispose()


def downgrade(url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.downgrade(config, revision)


def test_0002_keeps_the_rows_and_makes_ids_100_case_sensitive_characters(database_url, engine):
    migrate(database_url, SCRIPT_LOCATION, revision="0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO gateway_transactions (id, account_id, status, error_message, created_at)"
                " VALUES ('old-1', 'acct_a', 'pending', '', '2026-11-23 10:00:00')"
            )
        )
    migrate(database_url, SCRIPT_LOCATION)
    ledger = SqlLedger(engine)

    assert ledger.get("old-1").status == "pending"
    for id_ in ("X" * 100, "x" * 100):
        ledger.add_pending(Transaction.pending(id_, "A" * 100, REQUEST, AT))
    assert ledger.get("X" * 100).id == "X" * 100 and ledger.get("x" * 100).id == "x" * 100
    assert ledger.get("OLD-1") is None

    if engine.dialect.name != "sqlite":
        with engine.connect() as connection:
            columns = connection.execute(
                text(
                    "SELECT column_name, character_maximum_length, collation_name FROM information_schema.columns "
                    "WHERE table_schema = DATABASE() AND table_name = 'gateway_transactions' "
                    "AND column_name IN ('id', 'account_id') ORDER BY column_name"
                )
            ).all()
        assert [tuple(c) for c in columns] == [("account_id", 100, "utf8mb4_bin"), ("id", 100, "utf8mb4_bin")]


def test_0002_downgrades_once_the_ids_fit_again(database_url, engine):
    migrate(database_url, SCRIPT_LOCATION)
    SqlLedger(engine).add_pending(Transaction.pending("short-1", "acct_a", REQUEST, AT))
    downgrade(database_url, "0001")
    migrate(database_url, SCRIPT_LOCATION)
    assert SqlLedger(engine).get("short-1").status == "pending"


def test_0007_adds_operators_and_the_audit_trail_and_downgrades_cleanly(database_url, engine):
    migrate(database_url, SCRIPT_LOCATION)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM gateway_audit_events")).scalar() == 0
        assert connection.execute(text("SELECT COUNT(*) FROM gateway_operators")).scalar() == 0
    downgrade(database_url, "0004_webhooks")
    with engine.connect() as connection:
        tables = set(sqlalchemy_inspect(connection).get_table_names())
    assert not tables & {"gateway_audit_events", "gateway_operators"} and "gateway_webhook_endpoints" in tables
    migrate(database_url, SCRIPT_LOCATION)
