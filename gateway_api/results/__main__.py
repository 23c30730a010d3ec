"""python -m gateway_api.results: consume `transactions_result` until SIGTERM/SIGINT."""
import logging
import threading

from infra.consumer_loop import stop_on_signals
from infra.logs import configure_logging
from infra.health import serve_worker_http
from infra.settings import from_env_or_exit

from gateway_api.results.bootstrap import bootstrap
from gateway_api.results.settings import Settings


def main() -> None:
    settings = from_env_or_exit(Settings)
    configure_logging("gateway_results", settings.log_level)
    stop = threading.Event()
    stop_on_signals(stop)
    consumer = bootstrap(settings)
    serve_worker_http(settings.metrics_port, consumer.probes)
    logging.getLogger(__name__).info("results consumer started", extra={"group_id": settings.group_id,
                                                                         "topic": settings.kafka.topics.results})
    consumer.run(stop)


main()
