"""python -m gateway_api.results: consume `transactions_result` until SIGTERM/SIGINT (composed in
``gateway_api.bootstrap.build_results_consumer``)."""
import logging
import threading

from infra.consumer_loop import stop_on_signals
from infra.health import serve_worker_http
from infra.logs import configure_logging
from infra.settings import from_env_or_exit

from gateway_api.bootstrap import build_results_consumer
from gateway_api.settings import ResultsSettings


def main() -> None:
    settings = from_env_or_exit(ResultsSettings)
    configure_logging("gateway_results", settings.log_level)
    stop = threading.Event()
    stop_on_signals(stop)
    consumer = build_results_consumer(settings)
    serve_worker_http(settings.metrics_port, consumer.probes)
    logging.getLogger(__name__).info("results consumer started", extra={"group_id": settings.group_id,
                                                                         "topic": settings.kafka.topics.results})
    consumer.run(stop)


main()
