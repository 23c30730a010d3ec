"""python -m gateway_api.webhooks: deliver webhooks until SIGTERM/SIGINT (composed in
``gateway_api.bootstrap.build_webhook_dispatcher``)."""
import logging
import threading

from infra.consumer_loop import stop_on_signals
from infra.health import serve_worker_http
from infra.logs import configure_logging
from infra.settings import from_env_or_exit

from gateway_api.bootstrap import build_webhook_dispatcher
from gateway_api.settings import WebhookSettings

log = logging.getLogger("gateway_api.webhooks")


def main() -> None:
    settings = from_env_or_exit(WebhookSettings)
    configure_logging("gateway_webhooks", settings.log_level)
    stop = threading.Event()
    stop_on_signals(stop)
    dispatcher = build_webhook_dispatcher(settings)
    serve_worker_http(settings.metrics_port, dispatcher.probes)
    if settings.allow_private_urls:
        log.warning("WEBHOOK_ALLOW_PRIVATE_URLS=true: webhooks may go to http:// URLs and private addresses "
                    "(development only)")
    log.info("webhook dispatcher started", extra={
        "concurrency": settings.concurrency, "timeout_s": settings.timeout_seconds, "lease_s": settings.lease_seconds,
        "attempts": settings.retry_schedule.max_attempts, "retries_for_h": round(
            settings.retry_schedule.total.total_seconds() / 3600, 2)})
    dispatcher.run(stop)
    log.info("webhook dispatcher stopped")


main()
