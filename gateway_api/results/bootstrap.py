"""Composition root of the results consumer."""
from __future__ import annotations

from confluent_kafka import Consumer

from infra.consumer_loop import BatchConsumerLoop, LoopSettings, subscribe_reporting_assignment
from infra.db import build_engine, migrate
from infra.dead_letters import DeadLetterPublisher
from infra.kafka import build_acked_producer, consumer_config
from infra.metrics import consumer_lag_stats_callback

from gateway_api.adapters.ledger_repository import SqlLedger
from gateway_api.results import metrics
from gateway_api.results.apply import ApplyResults
from gateway_api.results.settings import Settings
from gateway_api.migrations import SCRIPT_LOCATION as MIGRATIONS

DEAD_LETTER_TIMEOUT_SECONDS = 10


def bootstrap(settings: Settings) -> BatchConsumerLoop:
    """A consumer loop subscribed to the results topic, writing to the ledger; run it with a stop event."""
    engine = build_engine(settings.database_url)
    if settings.auto_migrate:
        migrate(settings.database_url, MIGRATIONS)
    config = consumer_config(settings.kafka, "gateway-results", settings.group_id,
                             **{"statistics.interval.ms": 5000,
                                "stats_cb": consumer_lag_stats_callback(metrics.CONSUMER_LAG)})
    consumer = Consumer(config)
    subscribe_reporting_assignment(consumer, [settings.kafka.topics.results], metrics.ASSIGNED_PARTITIONS)
    dead_letters = DeadLetterPublisher(build_acked_producer(settings.kafka, "gateway-results"),
                                       settings.kafka.topics.dlq, DEAD_LETTER_TIMEOUT_SECONDS)
    loop_settings = LoopSettings(batch_size=settings.batch_size, poll_timeout=settings.poll_timeout)
    return BatchConsumerLoop(consumer, ApplyResults(SqlLedger(engine), dead_letters, metrics), loop_settings)
