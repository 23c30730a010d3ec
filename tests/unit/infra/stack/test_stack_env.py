"""What `make run` hands its processes on the embedded broker, and what it leaves to Apache Kafka
(infra/stack/stack.py; docs/decisions/0001 and 0002)."""

from __future__ import annotations

import dataclasses

import pytest

from infra.runtime.kafka import KafkaSettings
from infra.runtime.settings import EnvReader
from infra.stack import Stack, StackSettings


@pytest.fixture
def settings(tmp_path) -> StackSettings:
    return dataclasses.replace(StackSettings(), var_dir=tmp_path)


def test_on_the_embedded_broker_fetches_wait_15_ms_the_api_lingers_20_and_consumers_need_no_group(
    settings, monkeypatch
):
    for name in ("KAFKA_FETCH_WAIT_MAX_MS", "GATEWAY_PRODUCER_LINGER_MS", "KAFKA_STATIC_ASSIGNMENT"):
        monkeypatch.delenv(name, raising=False)
    env = Stack(settings, console=None)._env()
    assert (env["KAFKA_FETCH_WAIT_MAX_MS"], env["GATEWAY_PRODUCER_LINGER_MS"]) == ("15", "20")
    kafka = KafkaSettings.from_env(EnvReader(env))
    assert kafka.fetch_wait_max_ms == 15 and kafka.static_assignment and not kafka.idempotent_producer


def test_an_operator_s_own_values_win(settings, monkeypatch):
    monkeypatch.setenv("KAFKA_FETCH_WAIT_MAX_MS", "50")
    monkeypatch.setenv("GATEWAY_PRODUCER_LINGER_MS", "5")
    env = Stack(settings, console=None)._env()
    assert (env["KAFKA_FETCH_WAIT_MAX_MS"], env["GATEWAY_PRODUCER_LINGER_MS"]) == ("50", "5")


def test_on_apache_kafka_the_stack_keeps_the_defaults(settings, monkeypatch):
    for name in ("KAFKA_FETCH_WAIT_MAX_MS", "GATEWAY_PRODUCER_LINGER_MS", "KAFKA_STATIC_ASSIGNMENT"):
        monkeypatch.delenv(name, raising=False)
    env = Stack(dataclasses.replace(settings, external_kafka="kafka:9092"), console=None)._env()
    assert not {"KAFKA_FETCH_WAIT_MAX_MS", "GATEWAY_PRODUCER_LINGER_MS", "KAFKA_STATIC_ASSIGNMENT"} & set(env)
