"""python -m gateway_api.results: consume `transactions_result` until SIGTERM/SIGINT (composed in
``gateway_api.bootstrap.build_results_consumer``)."""

import logging

from infra.runtime.settings import from_env_or_exit
from infra.runtime.worker import run_worker

from gateway_api.bootstrap import build_results_consumer
from gateway_api.settings import ResultsSettings

log = logging.getLogger("gateway_api.results")


def started(settings: ResultsSettings) -> None:
    log.info("results consumer started", extra={"group_id": settings.group_id, "topic": settings.kafka.topics.results})


run_worker("gateway_results", from_env_or_exit(ResultsSettings), build_results_consumer, started)
