"""The dispatcher's loop: keep up to ``concurrency`` deliveries in flight, write their outcomes back.

One thread claims and records (batched DB writes); a pool of threads does the HTTP. A housekeeping
thread refreshes the queue gauges every few seconds and purges old events hourly. If the database
fails, outcomes are kept in memory and written once it is back (their leases may run out meanwhile:
the delivery is then sent again, which at-least-once allows). An outcome the database refuses while
it answers (``infra.runtime.poison``) is set aside and logged, so it cannot hold the others back: its
delivery is sent again once its lease runs out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from infra.runtime.health import Heartbeat
from infra.runtime.poison import OutageOrPoison, apply_isolating

from gateway_api.adapters.metrics import WebhookMetrics
from gateway_api.domain.deliveries import DELIVERED, PENDING
from gateway_api.entrypoints.webhook_senders import Senders
from gateway_api.settings import WebhookSettings
from gateway_api.use_cases.deliver_webhooks import DeliverWebhooks
from gateway_api.use_cases.ports import AttemptRecord, ClaimedDelivery, DeliveryQueue

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 5.0
GATHER_SECONDS = 0.05
# Deliveries claimed per sending thread: the queue beyond the threads keeps them busy between claims
# (a claim is a DB write; on MySQL a cycle may take tens of milliseconds). A delivery whose lease
# would run out before it can be sent is not sent (DeliverWebhooks.attempt).
PREFETCH = 4


class DeliveryLoop:
    def __init__(
        self,
        deliver: DeliverWebhooks,
        queue: DeliveryQueue,
        settings: WebhookSettings,
        now: Callable[[], datetime],
        metrics: WebhookMetrics,
        judge: OutageOrPoison | None = None,
    ):
        self._deliver = deliver
        self._judge = judge
        self._metrics = metrics
        self._queue = queue
        self._settings = settings
        self._now = now
        self._unrecorded: list[AttemptRecord] = []
        # Liveness (/healthz): beats once per turn of the loop, waits included.
        self.heartbeat = Heartbeat()
        self._backoff = 0.0

    # -- the loop ---------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        housekeeping = threading.Thread(
            target=self._housekeeping, args=(stop,), name="webhook-housekeeping", daemon=True
        )
        housekeeping.start()
        senders = Senders(self._deliver.attempt, self._settings.concurrency)
        try:
            while not stop.is_set():
                self._cycle(senders, stop)
            self._finish(senders)
        finally:
            senders.close()
        housekeeping.join(timeout=2)

    def _cycle(self, senders: Senders, stop: threading.Event) -> None:
        self.heartbeat.beat()
        self._unrecorded += senders.collect()
        # More than the threads can send wait in the senders' queue, so a thread that finishes a send
        # starts the next one at once instead of waiting for this loop's next claim. Claims come in
        # batches (a claim is a DB write), with the finished deliveries' outcomes (one commit).
        room = PREFETCH * self._settings.concurrency - senders.in_flight
        limit = room if room >= max(self._settings.concurrency // 4, 1) or not senders.in_flight else 0
        claimed = self._exchange(limit) if (limit or self._unrecorded) else []
        if claimed is None:
            stop.wait(self._backoff)
            return
        senders.submit(claimed)
        if limit and len(claimed) == limit:
            return  # there may be more due: claim again as soon as there is room
        if senders.in_flight:
            self._unrecorded += senders.collect(self._settings.poll_interval_seconds, GATHER_SECONDS)
        else:
            stop.wait(self._backoff or self._settings.poll_interval_seconds)

    def _exchange(self, limit: int) -> list[ClaimedDelivery] | None:
        """Outcomes written and new deliveries claimed; None when the database failed (the outcomes
        are kept and written with the next exchange)."""
        try:
            claimed = self._deliver.exchange(self._unrecorded, limit)
        except Exception as exc:  # noqa: BLE001 - the database is away: wait, keep the loop alive
            if self._judge is None or self._judge.is_outage(exc):
                self._database_failed(
                    "writing outcomes or claiming deliveries failed", unrecorded=len(self._unrecorded)
                )
            else:
                self._write_one_by_one(self._judge)
            return None
        self._observe(self._unrecorded)
        self._unrecorded = []
        self._backoff = 0.0
        return claimed

    def _write_one_by_one(self, judge: OutageOrPoison) -> None:
        """The batch failed with the database up: write each outcome alone, set the refused ones aside."""
        try:
            _, refused = apply_isolating(self._unrecorded, self._deliver.record, judge)
        except Exception:  # noqa: BLE001 - an outage after all: keep them, retry later
            self._database_failed("writing outcomes failed", unrecorded=len(self._unrecorded))
            return
        for record, reason in refused:
            log.error(
                "an attempt's outcome cannot be stored: set aside, the delivery is sent again after its lease",
                extra={"delivery_id": record.claimed.delivery_id, "reason": reason},
            )
        set_aside = {id(record) for record, _ in refused}
        self._observe([record for record in self._unrecorded if id(record) not in set_aside])
        self._unrecorded = []

    def _write_outcomes(self) -> None:
        """On the way out: the last outcomes, without claiming anything."""
        if self._unrecorded:
            self._exchange(0)

    def _database_failed(self, message: str, **extra) -> None:
        self._backoff = min(max(self._backoff * 2, 0.2), MAX_BACKOFF_SECONDS)
        log.exception(message, extra=extra | {"retry_in_s": self._backoff})

    def _finish(self, senders: Senders) -> None:
        """On SIGTERM: give back the leases of deliveries not started yet (another replica may send
        them at once), let the sends in hand finish (bounded by their timeout), write them down."""
        unstarted = senders.unstarted()
        if unstarted:
            try:
                self._deliver.release(unstarted)
            except Exception:  # noqa: BLE001 - their leases then simply run out
                log.exception("giving back unsent deliveries failed")
        self._unrecorded += senders.finish(self._settings.timeout_seconds + 1)
        self._write_outcomes()

    def _observe(self, records: list[AttemptRecord]) -> None:
        now = self._now()
        for record in records:
            if record.transition is None:
                log.warning(
                    "delivery not sent: its lease ran out while it waited",
                    extra={"delivery_id": record.claimed.delivery_id},
                )
                continue
            status = record.transition.status
            if status != PENDING:
                self._metrics.deliveries_by_status[status].inc()
            if record.attempt is None:
                continue
            result = record.attempt.result
            self._metrics.attempts_by_outcome[result.outcome].inc()
            self._metrics.attempt_duration.observe(result.duration_s)
            if status == DELIVERED:
                self._metrics.delivery_latency.observe(max((now - record.claimed.event_created_at).total_seconds(), 0))
            else:
                log.info(
                    "webhook attempt failed",
                    extra={
                        "delivery_id": record.claimed.delivery_id,
                        "endpoint_id": record.claimed.endpoint_id,
                        "attempt": record.attempt.number,
                        "outcome": result.outcome,
                        "http_status": result.http_status,
                        "next_attempt_at": str(record.transition.next_attempt_at or ""),
                        "status": status,
                    },
                )

    # -- housekeeping -----------------------------------------------------------------------------

    def _housekeeping(self, stop: threading.Event) -> None:
        next_purge = time.monotonic()
        while not stop.is_set():
            try:
                self._refresh_gauges()
                if time.monotonic() >= next_purge:
                    self._purge()
                    next_purge = time.monotonic() + self._settings.purge_interval_seconds
            except Exception:  # noqa: BLE001 - gauges go stale, delivering goes on
                log.exception("webhook housekeeping failed")
            stop.wait(self._settings.stats_interval_seconds)

    def _refresh_gauges(self) -> None:
        stats = self._queue.stats(self._now())
        self._metrics.backlog.set(stats.due)
        self._metrics.backlog_age.set(stats.oldest_due_seconds)
        self._metrics.scheduled_retries.set(stats.scheduled_retries)
        self._metrics.failing_endpoints.set(stats.failing_endpoints)
        self._metrics.longest_failing.set(stats.longest_failing_seconds)

    def _purge(self) -> None:
        before = self._now() - timedelta(days=self._settings.event_retention_days)
        purged = self._queue.purge(before)
        if purged:
            log.info("purged old events", extra={"events": purged, "recorded_before": before.isoformat()})
