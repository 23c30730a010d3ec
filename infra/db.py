"""SQLAlchemy engines and Alembic migrations: one code path for SQLite and MySQL."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


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


def migrate(url: str, script_location: str, revision: str = "head") -> None:
    """Apply the Alembic migrations found at ``script_location`` (``package:folder``) to ``url``."""
    config = Config()
    config.set_main_option("script_location", script_location)
    # ConfigParser interpolation would otherwise eat '%' in URL-encoded passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, revision)
