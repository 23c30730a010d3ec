"""The composition root: the only place that builds engines, Kafka clients and the use case."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Consumer
from prometheus_client import REGISTRY, CollectorRegistry
from sqlalchemy import Engine

from infra.consumer_loop import BatchConsumerLoop, LoopSettings, subscribe_reporting_assignment
from infra.db import build_engine, migrate
from infra.hold_points import HoldPoints
from infra.kafka import AckedProducer, build_acked_producer, consumer_config

from processor.adapters.kafka import DeadLetterPublisher, KafkaResultPublisher, TransactionBatchHandler
from processor.metrics import ProcessorMetrics
from processor.repositories.sqlalchemy import SqlTransactionRepository
from processor.settings import Settings
from processor.use_cases.process_transaction import ProcessTransaction

log = logging.getLogger(__name__)

MIGRATIONS = "processor:migrations"
CLIENT_ID = "processor"
LAG_STATS_INTERVAL_MS = 5000


def run_migrations(settings: Settings) -> None:
    migrate(settings.database_url, MIGRATIONS)


@dataclass
class Processor:
    loop: BatchConsumerLoop
    producer: AckedProducer
    engine: Engine

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set, then release the broker and the database."""
        try:
            self.loop.run(stop)
        finally:
            self.producer.flush(2)
            self.engine.dispose()
            log.info("processor stopped")


def bootstrap(settings: Settings, registry: CollectorRegistry = REGISTRY) -> Processor:
    if settings.auto_migrate:
        run_migrations(settings)
    metrics = ProcessorMetrics(registry)
    engine = build_engine(settings.database_url)
    producer = build_acked_producer(settings.kafka, CLIENT_ID)
    topics, timeout = settings.kafka.topics, settings.publish_timeout_seconds
    use_case = ProcessTransaction(SqlTransactionRepository(engine), KafkaResultPublisher(producer, topics.results, timeout))
    handler = TransactionBatchHandler(use_case, DeadLetterPublisher(producer, topics.dlq, timeout), metrics)
    consumer = Consumer(consumer_config(
        settings.kafka, CLIENT_ID, settings.group_id,
        **{"statistics.interval.ms": LAG_STATS_INTERVAL_MS, "stats_cb": metrics.lag_stats_callback()},
    ))
    subscribe_reporting_assignment(consumer, [topics.transactions], metrics.assigned_partitions)
    checkpoint = HoldPoints(Path(settings.test_hold_dir)) if settings.test_hold_dir else None
    loop = BatchConsumerLoop(consumer, handler, LoopSettings(batch_size=settings.batch_size, checkpoint=checkpoint))
    return Processor(loop, producer, engine)
