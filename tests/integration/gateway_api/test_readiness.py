"""/readyz means "can serve": a pod of a release whose migration has not run yet takes no traffic."""

import dataclasses
import threading

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import insert, text

from infra.runtime.db import compatibility_table, migrate, schema_heads, wait_for_schema

from gateway_api import create_app
from gateway_api.migrations import SCRIPT_LOCATION, VERSION_TABLE
from processor.migrations import SCRIPT_LOCATION as PROCESSOR_MIGRATIONS


def config_for(location: str) -> Config:
    config = Config()
    config.set_main_option("script_location", location)
    return config


@pytest.fixture
def unmigrated_app(api_settings):
    app = create_app(dataclasses.replace(api_settings, auto_migrate=False))
    yield app
    app.extensions["gateway_api"].close()


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


def declare_later_revision(engine, compatible_with: str) -> None:
    """The ledger as a later release left it: migrated past this code's head, with that migration's
    declaration recorded (what ``migrate`` does from a newer release's ``compatible_with``)."""
    table = compatibility_table(VERSION_TABLE)
    table.create(engine, checkfirst=True)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'f00dfeed0002'"))
        connection.execute(insert(table).values(revision="f00dfeed0002", compatible_with=compatible_with))


def test_a_later_revision_that_declares_this_head_compatible_keeps_the_api_ready(app):
    (head,) = schema_heads(SCRIPT_LOCATION)
    declare_later_revision(app.extensions["gateway_api"].engine, f"0000_older,{head}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 200 and response.json["checks"]["database"] == "ok"


def test_a_later_revision_that_declares_only_other_heads_is_not_ready(app):
    declare_later_revision(app.extensions["gateway_api"].engine, "0000_older")
    assert app.test_client().get("/readyz").status_code == 503


def test_a_worker_does_not_wait_for_a_later_compatible_schema(app):
    engine = app.extensions["gateway_api"].engine
    (head,) = schema_heads(SCRIPT_LOCATION)
    declare_later_revision(engine, head)
    stop = threading.Event()
    threading.Timer(5, stop.set).start()
    assert wait_for_schema(engine, SCRIPT_LOCATION, VERSION_TABLE, stop, interval=0.1)
    stop.set()


@pytest.mark.parametrize("location", [SCRIPT_LOCATION, PROCESSOR_MIGRATIONS])
def test_every_migration_declares_which_code_heads_keep_working_on_its_schema(location):
    scripts = ScriptDirectory.from_config(config_for(location))
    revisions = {script.revision for script in scripts.walk_revisions()}
    for script in scripts.walk_revisions():
        declared = getattr(script.module, "compatible_with", None)
        assert isinstance(declared, tuple), f"{script.path} declares no compatible_with tuple"
        assert set(declared) <= revisions - {script.revision}, f"{script.path}: unknown or own revision"
