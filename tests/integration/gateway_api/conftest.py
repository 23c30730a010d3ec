"""Fixtures for the API against real parts: the embedded broker and a SQLite ledger."""

from __future__ import annotations

import threading

import pytest

from infra.runtime.db import build_engine, migrate
from infra.runtime.settings import Secret

from gateway_api import create_app
from gateway_api.adapters.ledger_repository import SqlLedger
from gateway_api.bootstrap import build_results_consumer as results_bootstrap
from gateway_api.migrations import SCRIPT_LOCATION
from gateway_api.settings import ResultsSettings, Settings
from tests.integration.gateway_api.support import ADMIN_TOKEN, WEBHOOK_SECRETS_KEY, create_merchant
from tests.support.http import serving
from tests.support.transactions import TEST_CARD_KEYS


@pytest.fixture
def engine(database_url):
    """The ledger database, migrated to head, on SQLite and on MariaDB (``database_url``'s parameters)."""
    migrate(database_url, SCRIPT_LOCATION)
    engine = build_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def ledger(engine):
    return SqlLedger(engine)


@pytest.fixture
def api_settings(kafka_settings, sqlite_url) -> Settings:
    return Settings(
        admin_token=Secret(ADMIN_TOKEN),
        secret_pepper=Secret("test-pepper-0123456789"),
        card_data_keys=TEST_CARD_KEYS,
        webhook_secrets_key=Secret(WEBHOOK_SECRETS_KEY),
        webhook_allow_private_urls=True,
        database_url=sqlite_url,
        kafka=kafka_settings,
        publish_timeout_seconds=5.0,
    )


@pytest.fixture
def app(api_settings):
    app = create_app(api_settings)
    yield app
    app.extensions["gateway_api"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def merchant(client) -> tuple[str, str]:
    return create_merchant(client, "Shop A")


@pytest.fixture
def other_merchant(client) -> tuple[str, str]:
    return create_merchant(client, "Shop B")


@pytest.fixture
def server(app):
    """The app on a real port (threaded werkzeug server), for concurrent clients."""
    with serving(app) as url:
        yield url


@pytest.fixture
def results_consumer(kafka_settings):
    """``start(database_url)`` runs the results consumer (built as ``python -m gateway_api.results``
    builds it) in a thread until the test ends; it returns the consumer's settings.

    Each test's consumers get a group of their own: on Tansu a member that another test stopped in
    the middle of a join holds up the next join of its group for minutes (order-dependent failures)."""
    stop, threads = threading.Event(), []

    def start(database_url: str, group_id: str = "") -> ResultsSettings:
        group_id = group_id or f"{kafka_settings.topics.results}-test"
        settings = ResultsSettings(database_url=database_url, kafka=kafka_settings, group_id=group_id, metrics_port=0)
        thread = threading.Thread(target=results_bootstrap(settings).run, args=(stop,), daemon=True)
        thread.start()
        threads.append(thread)
        return settings

    yield start
    stop.set()
    for thread in threads:
        thread.join(15)
