import pytest

from infra.db import build_engine, migrate
from processor.bootstrap import MIGRATIONS


@pytest.fixture
def migrated_url(database_url) -> str:
    """A SQLite or MariaDB database with the processor's schema."""
    migrate(database_url, MIGRATIONS)
    return database_url


@pytest.fixture
def engine(migrated_url):
    engine = build_engine(migrated_url)
    yield engine
    engine.dispose()
