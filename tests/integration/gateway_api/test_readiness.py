"""/readyz means "can serve": a pod of a release whose migration has not run yet takes no traffic."""
import dataclasses

import pytest
from sqlalchemy import text

from infra.db import migrate

from gateway_api import create_app
from gateway_api.migrations import SCRIPT_LOCATION, VERSION_TABLE


@pytest.fixture
def unmigrated_app(api_settings):
    app = create_app(dataclasses.replace(api_settings, auto_migrate=False))
    yield app
    app.extensions["gateway_api"].publisher.close()
    app.extensions["gateway_api"].engine.dispose()


def test_the_api_is_not_ready_before_the_migration_and_ready_after(unmigrated_app, api_settings):
    client = unmigrated_app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "unavailable", "broker": "ok"}
    assert client.get("/healthz").status_code == 200  # alive: a restart would not help

    migrate(api_settings.database_url, SCRIPT_LOCATION)

    response = client.get("/readyz")
    assert response.status_code == 200 and response.json["checks"] == {"database": "ok", "broker": "ok"}


def test_a_database_at_another_revision_is_not_ready(app):
    """A newer release migrated the ledger past this code's head (or a rollback is half done)."""
    engine = app.extensions["gateway_api"].engine
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'f00dfeed0002'"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["checks"]["database"] == "unavailable"
