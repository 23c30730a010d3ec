"""Composition root of the results consumer: the ledger updater and the hourly idempotency purge."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

from confluent_kafka import Consumer
from sqlalchemy import Engine

from infra.clock import utc_now
from infra.consumer_loop import BatchConsumerLoop, LoopSettings
from infra.db import build_engine, migrate_if_enabled, wait_for_schema
from infra.dead_letters import DeadLetterPublisher
from infra.health import Probes, schema_check
from infra.kafka import build_acked_producer, consumer_config
from infra.metrics import metrics_for
from infra.offset_gaps import OffsetGaps

from gateway_api.adapters.idempotency_repository import SqlIdempotencyStore
from gateway_api.adapters.ledger_repository import SqlLedger
from gateway_api.adapters.results_handler import ApplyResults
from gateway_api.results.metrics import ResultsMetrics
from gateway_api.adapters.oldest_pending import OldestPending
from gateway_api.results.settings import Settings
from gateway_api.use_cases.purge_idempotency_keys import PurgeExpiredKeys, purge_periodically

from gateway_api.migrations import SCRIPT_LOCATION as MIGRATIONS, VERSION_TABLE

DEAD_LETTER_TIMEOUT_SECONDS = 10


@dataclass
class ResultsConsumer:
    loop: BatchConsumerLoop
    engine: Engine
    probes: Probes
    purge: PurgeExpiredKeys
    oldest_pending: OldestPending

    def run(self, stop: threading.Event) -> None:
        """Wait for the ledger schema of this release, then consume until ``stop`` is set; meanwhile
        purge expired idempotency keys (once the schema is there, then hourly) and keep the
        oldest-pending gauge current."""
        purger = threading.Thread(target=purge_periodically, args=(self.purge, stop), name="purge", daemon=True)
        try:
            wait_for_schema(self.engine, MIGRATIONS, VERSION_TABLE, stop, on_wait=self.loop.heartbeat.beat)
            purger.start()
            threading.Thread(target=self.oldest_pending.run, args=(stop,), name="oldest-pending", daemon=True).start()
            self.loop.run(stop)
        finally:
            stop.set()
            if purger.is_alive():
                purger.join(5)
            self.engine.dispose()


def bootstrap(settings: Settings) -> ResultsConsumer:
    """A consumer subscribed to the results topic, writing to the ledger; run it with a stop event."""
    engine = build_engine(settings.database_url)
    migrate_if_enabled(settings, MIGRATIONS)
    metrics = metrics_for(ResultsMetrics)
    config = consumer_config(settings.kafka, "gateway-results", settings.group_id,
                             **{"statistics.interval.ms": 5000, "stats_cb": metrics.lag_stats_callback()})
    consumer = Consumer(config)
    dead_letters = DeadLetterPublisher(build_acked_producer(settings.kafka, "gateway-results"),
                                       settings.kafka.topics.dlq, DEAD_LETTER_TIMEOUT_SECONDS)
    loop_settings = LoopSettings(batch_size=settings.batch_size, poll_timeout=settings.poll_timeout)
    ledger = SqlLedger(engine)
    loop = BatchConsumerLoop(consumer, ApplyResults(ledger, dead_letters, metrics), loop_settings,
                             OffsetGaps(on_accept=metrics.offset_gaps_accepted.inc))
    loop.subscribe([settings.kafka.topics.results], metrics.assigned_partitions)
    probes = Probes(loop.heartbeat, settings.liveness_stall_seconds, [schema_check(engine, MIGRATIONS, VERSION_TABLE)])
    purge = PurgeExpiredKeys(SqlIdempotencyStore(engine), utc_now, timedelta(hours=settings.idempotency_ttl_hours))
    return ResultsConsumer(loop, engine, probes, purge, OldestPending(ledger, metrics.oldest_pending, utc_now))
