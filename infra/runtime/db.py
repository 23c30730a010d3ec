"""SQLAlchemy engines and Alembic migrations: one code path for SQLite and MySQL."""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib import import_module
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, MetaData, String, Table, create_engine, delete, event, insert, inspect, select
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


def build_engine(url: str, **kwargs) -> Engine:
    """An engine tuned for the backend behind ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, **kwargs)
    return create_engine(url, pool_pre_ping=True, pool_recycle=1800, **kwargs)


def _sqlite_engine(url: str, database: str | None, **kwargs) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        # WAL lets readers (API, panel) run while a writer commits; NORMAL is durable in WAL mode
        # against process crashes, which is what at-least-once consumers need.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def migrates_itself(url: str) -> bool:
    """The default of AUTO_MIGRATE: SQLite files migrate themselves for dev; a shared MySQL is
    migrated by an explicit job (`python -m processor migrate`, `python -m gateway_api migrate`)."""
    return make_url(url).get_backend_name() == "sqlite"


def migrate_if_enabled(settings, script_location: str) -> None:
    """The one place where a process decides to migrate at start: ``settings.auto_migrate``
    (AUTO_MIGRATE; on for SQLite files by default, see ``migrates_itself``)."""
    if settings.auto_migrate:
        migrate(settings.database_url, script_location)


def _config(script_location: str) -> Config:
    config = Config()
    config.set_main_option("script_location", script_location)
    return config


@lru_cache(maxsize=None)
def schema_heads(script_location: str) -> frozenset[str]:
    """The revisions this code's migrations end at (read once: they ship with the code)."""
    return frozenset(ScriptDirectory.from_config(_config(script_location)).get_heads())


def current_revisions(engine: Engine, version_table: str) -> frozenset[str]:
    """The revisions the database is at (empty before the first migration)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": version_table})
        return frozenset(context.get_current_heads())


def compatibility_table(version_table: str) -> Table:
    """What each applied revision declared: the older code heads that keep working on its schema
    (``compatible_with`` of its migration file). Old code reads it, since it cannot read a newer
    release's migration files. A migration creates it (gateway_api 0006_day_two); ``migrate`` fills it."""
    return Table(
        f"{version_table}_compatibility",
        MetaData(),
        Column("revision", String(64), primary_key=True),
        Column("compatible_with", String(1000), nullable=False),
    )


def schema_is_current(engine: Engine, script_location: str, version_table: str) -> bool:
    """Whether this code may serve on the database: at exactly this code's head, or at a later
    revision whose migration declared this head compatible (the expand half of an expand/contract
    change keeps the previous release serving, and a rollback working). A pod of a new release
    takes no traffic before its migration ran: an older revision never declares a newer head."""
    current, heads = current_revisions(engine, version_table), schema_heads(script_location)
    if current == heads:
        return True
    return bool(current) and all(heads <= declared for declared in _declared(engine, version_table, current))


def _declared(engine: Engine, version_table: str, revisions: frozenset[str]) -> list[frozenset[str]]:
    table = compatibility_table(version_table)
    if not inspect(engine).has_table(table.name):
        return [frozenset()]
    with engine.connect() as connection:
        found = dict(
            connection.execute(
                select(table.c.revision, table.c.compatible_with).where(table.c.revision.in_(revisions))
            ).all()
        )
    return [frozenset(filter(None, found.get(revision, "").split(","))) for revision in revisions]


def declared_compatibility(script_location: str) -> dict[str, tuple[str, ...]]:
    """Each revision's ``compatible_with`` (a migration that declares nothing is compatible with nothing)."""
    scripts = ScriptDirectory.from_config(_config(script_location))
    return {
        script.revision: tuple(getattr(script.module, "compatible_with", ())) for script in scripts.walk_revisions()
    }


def _record_compatibility(engine: Engine, script_location: str, version_table: str) -> None:
    table = compatibility_table(version_table)
    if not inspect(engine).has_table(table.name):
        return  # not yet created by a migration of this service
    rows = [
        {"revision": revision, "compatible_with": ",".join(heads)}
        for revision, heads in declared_compatibility(script_location).items()
    ]
    with engine.begin() as connection:
        connection.execute(delete(table).where(table.c.revision.in_([row["revision"] for row in rows])))
        connection.execute(insert(table), rows)


def wait_for_schema(
    engine: Engine, script_location: str, version_table: str, stop, on_wait=lambda: None, interval: float = 2.0
) -> bool:
    """Block until this code may run on the database (``schema_is_current``: the migration Job of
    the release ran, or a later compatible release migrated it); False if ``stop`` was set first.
    A consumer that started earlier would only fail batches."""
    logged = False
    while not stop.is_set():
        try:
            if schema_is_current(engine, script_location, version_table):
                return True
        except Exception as exc:  # noqa: BLE001 - database not there yet: same answer, wait
            error: str | None = type(exc).__name__
        else:
            error = None
        if not logged:
            log.info(
                "waiting for the database migrations", extra={"version_table": version_table, "error_class": error}
            )
            logged = True
        on_wait()
        stop.wait(interval)
    return False


def migrate(url: str, script_location: str, revision: str = "head") -> None:
    """Apply the Alembic migrations found at ``script_location`` (``package:folder``) to ``url``."""
    config = Config()
    config.set_main_option("script_location", script_location)
    # ConfigParser interpolation would otherwise eat '%' in URL-encoded passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, revision)
    _record_after(url, script_location)


def _record_after(url: str, script_location: str) -> None:
    # Each service's migrations package ("gateway_api:migrations") names its VERSION_TABLE.
    version_table = import_module(script_location.replace(":", ".")).VERSION_TABLE
    engine = build_engine(url)
    try:
        _record_compatibility(engine, script_location, version_table)
    finally:
        engine.dispose()
