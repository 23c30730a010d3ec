"""The composition root: the only place that builds engines, Kafka clients and the use case."""

from __future__ import annotations

from pathlib import Path

from confluent_kafka import Consumer
from prometheus_client import REGISTRY, CollectorRegistry

from infra.runtime.card_cipher import CardCipher
from infra.runtime.consumer_loop import BatchConsumerLoop, LoopSettings
from infra.runtime.db import build_engine, migrate, migrate_if_enabled
from infra.runtime.dead_letters import DeadLetterPublisher
from infra.runtime.health import Probes, schema_check
from infra.runtime.hold_points import HoldPoints
from infra.runtime.kafka import build_acked_producer, consumer_config
from infra.runtime.offset_gaps import OffsetGaps
from infra.runtime.poison import OutageOrPoison, database_answers
from infra.runtime.topic_router import TopicRouter

from processor.adapters.metrics import ProcessorMetrics
from processor.adapters.refund_repository import SqlRefundRepository
from processor.adapters.refund_result_publisher import KafkaRefundResultPublisher
from processor.adapters.result_publisher import KafkaResultPublisher
from processor.adapters.sql_repository import SqlTransactionRepository
from processor.entrypoints.card_data import CardDataReader
from processor.entrypoints.processor import Processor
from processor.entrypoints.refund_handler import RefundBatchHandler
from processor.entrypoints.transaction_handler import TransactionBatchHandler
from processor.migrations import SCRIPT_LOCATION as MIGRATIONS
from processor.migrations import VERSION_TABLE
from processor.settings import MigrationSettings, Settings
from processor.use_cases.process_refunds import ProcessRefunds
from processor.use_cases.process_transactions import ProcessTransactions

CLIENT_ID = "processor"
LAG_STATS_INTERVAL_MS = 5000


def run_migrations(settings: MigrationSettings) -> None:
    migrate(settings.database_url, MIGRATIONS)


def build_processor(settings: Settings, registry: CollectorRegistry = REGISTRY) -> Processor:
    migrate_if_enabled(settings, MIGRATIONS)
    metrics = ProcessorMetrics(registry)
    engine = build_engine(settings.database_url)
    producer = build_acked_producer(settings.kafka, CLIENT_ID, one_sender=True)
    topics, timeout = settings.kafka.topics, settings.publish_timeout_seconds
    use_case = ProcessTransactions(
        SqlTransactionRepository(engine), KafkaResultPublisher(producer, topics.results, timeout)
    )
    cards = CardDataReader(CardCipher(settings.card_data_keys), settings.accept_plaintext_cards)
    dead_letters = DeadLetterPublisher(producer, topics.dlq, timeout)
    refunds = ProcessRefunds(
        SqlRefundRepository(engine), KafkaRefundResultPublisher(producer, topics.refunds_result, timeout)
    )
    payments = TransactionBatchHandler(use_case, dead_letters, metrics, cards, OutageOrPoison(database_answers(engine)))
    handler = TopicRouter(
        {topics.transactions: payments, topics.refunds: RefundBatchHandler(refunds, dead_letters, metrics)}
    )
    consumer = Consumer(
        consumer_config(
            settings.kafka,
            CLIENT_ID,
            settings.group_id,
            **{"statistics.interval.ms": LAG_STATS_INTERVAL_MS, "stats_cb": metrics.lag_stats_callback()},
        )
    )
    checkpoint = HoldPoints(Path(settings.test_hold_dir)) if settings.test_hold_dir else None
    loop = BatchConsumerLoop(
        consumer,
        handler,
        LoopSettings(batch_size=settings.batch_size, checkpoint=checkpoint),
        OffsetGaps(on_accept=metrics.offset_gaps_accepted.inc),
    )
    loop.subscribe(
        [topics.transactions, topics.refunds],
        metrics.assigned_partitions,
        metrics.partition_assignments,
        static=settings.kafka.static_assignment,
    )
    probes = Probes(loop.heartbeat, settings.liveness_stall_seconds, [schema_check(engine, MIGRATIONS, VERSION_TABLE)])
    return Processor(loop, producer, engine, probes)
