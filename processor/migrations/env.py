"""Alembic environment of the processor's database (run by ``python -m processor migrate``)."""
from alembic import context

from infra.db import build_engine

# Its own version table, so the processor and the API may share one database without colliding.
VERSION_TABLE = "processor_alembic_version"


def run_migrations_online() -> None:
    engine = build_engine(context.config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, version_table=VERSION_TABLE, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


run_migrations_online()
