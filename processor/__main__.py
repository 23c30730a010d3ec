"""``python -m processor`` runs the consumer loop; ``python -m processor migrate`` applies migrations."""
from __future__ import annotations

import logging
import sys
import threading

from infra.consumer_loop import stop_on_signals
from infra.logs import configure_logging
from infra.metrics import serve_metrics

from processor.bootstrap import bootstrap, run_migrations
from processor.settings import Settings

USAGE = "usage: python -m processor [migrate]"


def main(argv: list[str]) -> int:
    if argv not in ([], ["migrate"]):
        print(USAGE, file=sys.stderr)
        return 2
    settings = Settings.from_env()
    configure_logging("processor", settings.log_level)
    if argv == ["migrate"]:
        run_migrations(settings)
        logging.getLogger("processor").info("migrated")
        return 0
    stop = threading.Event()
    stop_on_signals(stop)
    processor = bootstrap(settings)
    serve_metrics(settings.metrics_port)
    logging.getLogger("processor").info("processor started", extra={"settings": repr(settings)})
    processor.run(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
