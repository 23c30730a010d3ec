"""Alembic environment of the processor's database (run by ``python -m processor migrate``)."""

from alembic import context

from infra.runtime.db import build_engine

from processor.migrations import VERSION_TABLE


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None, "infra.runtime.db.migrate, the only way these migrations run, always sets it"
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, version_table=VERSION_TABLE, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


run_migrations_online()
