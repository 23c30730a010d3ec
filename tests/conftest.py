"""Fixtures for real parts: the Kafka broker, SQLite and MariaDB databases."""

from __future__ import annotations

import os
import uuid

import pytest

from infra.kernel.contracts import Topics
from infra.runtime.kafka import KafkaSettings, ensure_topics
from infra.stack.embedded_broker import EmbeddedBroker

from tests.support import skip_or_fail
from tests.support.mysql import ServerUnreachable, throwaway_database

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
    try:
        url, drop = throwaway_database(os.environ.get("TEST_MYSQL_URL", DEFAULT_TEST_MYSQL_URL), "gw_test")
    except ServerUnreachable as exc:
        skip_or_fail(str(exc))
    yield url
    drop()


@pytest.fixture
def figures(record_property):
    """``figures(line)``: a figure a test shows but does not assert (a latency on a noisy machine).

    Printed in a "figures" section at the end of the run (from every xdist worker), where a captured
    print() of a passing test would never be seen.
    """
    return lambda line: record_property("figure", line)


def pytest_terminal_summary(terminalreporter):
    reports = [
        r for outcome in ("passed", "failed") for r in terminalreporter.stats.get(outcome, []) if r.when == "call"
    ]
    shown = [(report.nodeid, value) for report in reports for name, value in report.user_properties if name == "figure"]
    if shown:
        terminalreporter.section("figures (printed, not asserted)")
        for nodeid, line in shown:
            terminalreporter.write_line(f"{nodeid.rsplit('::', 1)[-1]}: {line}")


@pytest.fixture(params=["sqlite", "mysql"])
def database_url(request) -> str:
    """Runs a test once on SQLite and once on MariaDB/MySQL: one code path, both backends."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(scope="session")
def running_stack(kafka_bootstrap, tmp_path_factory):
    """API, processor, results consumer and panel as real processes (one stack per test session).

    Tests share it, so each creates merchants of its own (``running_stack.create_merchant``).
    """
    from tests.support.ports import PortTaken
    from tests.support.stack import StackDidNotStart, start_stack

    try:
        stack = start_stack(tmp_path_factory.mktemp("stack"), kafka_bootstrap)
    except (StackDidNotStart, PortTaken) as exc:
        pytest.fail(f"the stack did not start: {exc}", pytrace=False)
    yield stack
    stack.stop()
