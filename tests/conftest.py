"""Fixtures for real parts: the Kafka broker, SQLite and MariaDB databases."""
from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy

from infra.contracts import Topics
from infra.embedded_broker import EmbeddedBroker
from infra.kafka import KafkaSettings, ensure_topics
from tests.support import skip_or_fail

DEFAULT_TEST_MYSQL_URL = "mysql+pymysql://root@127.0.0.1:3306/test"


@pytest.fixture(scope="session")
def kafka_bootstrap():
    """The embedded Tansu broker, or the Kafka named by KAFKA_BOOTSTRAP_SERVERS."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    with EmbeddedBroker(settings=KafkaSettings(topics=Topics.with_prefix("unused_"))) as broker:
        yield broker.bootstrap_servers


@pytest.fixture
def kafka_settings(kafka_bootstrap) -> KafkaSettings:
    """Settings for a test of its own: topics with a unique prefix, already created."""
    settings = KafkaSettings(
        bootstrap_servers=kafka_bootstrap,
        topics=Topics.with_prefix(f"t{uuid.uuid4().hex[:10]}_"),
        partitions=int(os.environ.get("TEST_KAFKA_PARTITIONS", "3")),
    )
    ensure_topics(settings)
    return settings


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def mysql_url():
    """A database of its own on the MariaDB/MySQL server, dropped afterwards."""
    server_url = sqlalchemy.engine.make_url(os.environ.get("TEST_MYSQL_URL", DEFAULT_TEST_MYSQL_URL))
    name = f"gw_test_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(server_url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    except sqlalchemy.exc.OperationalError as exc:
        engine.dispose()
        skip_or_fail(f"MySQL/MariaDB not reachable at {server_url.render_as_string()}: {exc.orig}")
    yield server_url.set(database=name).render_as_string(hide_password=False)
    with engine.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
    engine.dispose()


@pytest.fixture(params=["sqlite", "mysql"])
def database_url(request) -> str:
    """Runs a test once on SQLite and once on MariaDB/MySQL: one code path, both backends."""
    return request.getfixturevalue(f"{request.param}_url")



@pytest.fixture(scope="session")
def running_stack(kafka_bootstrap, tmp_path_factory):
    """API, processor, results consumer and panel as real processes (one stack per test session).

    Tests share it, so each creates merchants of its own (``running_stack.create_merchant``).
    """
    from infra.stack import Stack
    from tests.support.stack import log_tails, stack_settings_for_tests

    stack = Stack(stack_settings_for_tests(tmp_path_factory.mktemp("stack"), kafka_bootstrap), console=None)
    try:
        stack.start(timeout=90)
    except Exception as exc:
        pytest.fail(f"the stack did not start: {exc}\n{log_tails(stack)}", pytrace=False)
    yield stack
    stack.stop()
