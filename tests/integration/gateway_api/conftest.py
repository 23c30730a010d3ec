"""Fixtures for the API against real parts: the embedded broker and a SQLite ledger."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from infra.settings import Secret

from gateway_api import create_app
from gateway_api.settings import Settings
from tests.integration.gateway_api.support import ADMIN_TOKEN, create_merchant
from tests.support.transactions import TEST_CARD_KEYS


@pytest.fixture
def api_settings(kafka_settings, sqlite_url) -> Settings:
    return Settings(admin_token=Secret(ADMIN_TOKEN), secret_pepper=Secret("test-pepper-0123456789"),
                    card_data_keys=TEST_CARD_KEYS,
                    database_url=sqlite_url, kafka=kafka_settings, publish_timeout_seconds=5.0)


@pytest.fixture
def app(api_settings):
    app = create_app(api_settings)
    yield app
    app.extensions["gateway_api"].publisher.close()
    app.extensions["gateway_api"].engine.dispose()


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
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(5)
