"""Poison or outage: an item that fails while the database answers is set aside, an outage is retried."""

import pytest
from sqlalchemy.exc import OperationalError

from infra.runtime.db import build_engine
from infra.runtime.kafka import DeliveryError
from infra.runtime.poison import OutageOrPoison, apply_isolating, database_answers

from tests.support.ports import refusing_port


@pytest.fixture
def judge_with_database(tmp_path):
    engine = build_engine(f"sqlite:///{tmp_path / 'up.db'}")
    yield OutageOrPoison(database_answers(engine))
    engine.dispose()


@pytest.fixture
def judge_without_database():
    with refusing_port() as port:  # a MariaDB server that is down
        engine = build_engine(f"mysql+pymysql://root@127.0.0.1:{port}/gateway")
        yield OutageOrPoison(database_answers(engine))
        engine.dispose()


def apply_refusing(poison: str, error: Exception | None = None):
    def apply(items):
        if poison in items:
            raise error or ValueError("bad value")
        return list(items)

    return apply


def test_an_item_failing_while_the_database_answers_is_set_aside_and_the_rest_applied(judge_with_database):
    done, poison = apply_isolating(["a", "bad", "b"], apply_refusing("bad"), judge_with_database)
    assert done == [["a"], ["b"]] and poison == [("bad", "cannot be applied: ValueError")]


def test_a_failure_while_the_database_is_down_is_retried_not_set_aside(judge_without_database):
    with pytest.raises(ValueError):
        apply_isolating(["a", "bad"], apply_refusing("bad"), judge_without_database)


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("UPDATE", {}, Exception("database is locked")),
        DeliveryError("1 of 1 writes not acknowledged"),
        TimeoutError(),
    ],
)
def test_locks_broker_failures_and_timeouts_are_outages_even_with_the_database_up(judge_with_database, error):
    with pytest.raises(type(error)):
        apply_isolating(["a", "bad"], apply_refusing("bad", error), judge_with_database)
