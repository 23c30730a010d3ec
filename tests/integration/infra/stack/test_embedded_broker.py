"""The embedded broker when the port it picked is taken before Tansu binds it."""

import socket

import pytest

from infra.kernel.contracts import Topics
from infra.runtime.kafka import KafkaSettings
from infra.stack.embedded_broker import BrokerStartError, EmbeddedBroker

SETTINGS = KafkaSettings(topics=Topics.with_prefix("port_race_"), partitions=1)


def test_a_picked_port_taken_in_the_meantime_means_starting_on_another_one():
    broker = EmbeddedBroker(settings=SETTINGS)
    with socket.socket() as squatter:
        squatter.bind((broker.host, broker.port))  # another process wins the race for the port
        squatter.listen()
        taken = broker.port
        with broker:  # starts it
            assert broker.port != taken and broker.is_running()
            assert broker.bootstrap_servers == f"{broker.host}:{broker.port}"


def test_a_port_asked_for_explicitly_is_not_replaced_and_the_error_says_it_is_in_use():
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        with pytest.raises(BrokerStartError, match="(?i)in use"):
            EmbeddedBroker(squatter.getsockname()[1], settings=SETTINGS).start(timeout=10)
