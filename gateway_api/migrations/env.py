"""Alembic environment of the API's ledger. Run through infra.runtime.db.migrate or `python -m gateway_api migrate`.

The version table has its own name so the ledger can share a database with the processor's tables.
"""

from alembic import context

from infra.runtime.db import build_engine

from gateway_api.adapters.tables import metadata
from gateway_api.migrations import VERSION_TABLE


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None, "infra.runtime.db.migrate, the only way these migrations run, always sets it"
    engine = build_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
