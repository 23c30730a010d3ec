"""python -m gateway_api.webhooks: deliver webhooks until SIGTERM/SIGINT (composed in
``gateway_api.bootstrap.build_webhook_dispatcher``)."""

import logging

from infra.runtime.settings import from_env_or_exit
from infra.runtime.worker import run_worker

from gateway_api.bootstrap import build_webhook_dispatcher
from gateway_api.settings import WebhookSettings

log = logging.getLogger("gateway_api.webhooks")


def started(settings: WebhookSettings) -> None:
    if settings.allow_private_urls:
        log.warning(
            "WEBHOOK_ALLOW_PRIVATE_URLS=true: webhooks may go to http:// URLs and private addresses (development only)"
        )
    log.info(
        "webhook dispatcher started",
        extra={
            "concurrency": settings.concurrency,
            "timeout_s": settings.timeout_seconds,
            "lease_s": settings.lease_seconds,
            "attempts": settings.retry_schedule.max_attempts,
            "retries_for_h": round(settings.retry_schedule.total.total_seconds() / 3600, 2),
        },
    )


run_worker("gateway_webhooks", from_env_or_exit(WebhookSettings), build_webhook_dispatcher, started)
log.info("webhook dispatcher stopped")
