import threading

import pytest
from prometheus_client import CollectorRegistry

from infra.runtime.db import build_engine, migrate

from processor.bootstrap import MIGRATIONS, build_processor
from processor.settings import Settings
from tests.support.transactions import TEST_CARD_KEYS


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


@pytest.fixture
def start_processor(kafka_settings, database_url):
    """Start the processor on a thread (settings overridable); returns its settings and metrics
    registry; stops it cleanly afterwards."""
    running = []

    def start(**overrides):
        settings = Settings(
            kafka=kafka_settings,
            database_url=database_url,
            metrics_port=0,
            auto_migrate=True,
            card_data_keys=TEST_CARD_KEYS,
            batch_size=500,
            group_id=f"{kafka_settings.topics.transactions}-processor",  # a group of its own
            **overrides,
        )
        registry = CollectorRegistry()
        processor, stop = build_processor(settings, registry), threading.Event()
        thread = threading.Thread(target=processor.run, args=(stop,))
        thread.start()
        running.append((thread, stop))
        return settings, registry

    yield start
    for thread, stop in running:
        stop.set()
        thread.join(15)
        assert not thread.is_alive(), "the processor did not stop"
