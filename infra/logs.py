"""JSON log lines on stdout, one per event, with card data masked as a last line of defence."""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

from infra.redaction import mask_card_numbers

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self._service,
            "pid": record.process,  # which gunicorn worker (or process) wrote it
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry |= {key: value for key, value in vars(record).items() if key not in _STANDARD}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return mask_card_numbers(json.dumps(entry, default=str))


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def gunicorn_logger_class(service: str) -> type:
    """A gunicorn ``logger_class`` whose own lines (start-up, workers booting and exiting, errors) are
    the same JSON lines as the service's; without it they are plain text in the middle of its log.

    Unlike ``logconfig_dict``, which would also switch gunicorn's access log on, the access log stays
    off: the apps log every request themselves.
    """
    from gunicorn.glogging import Logger  # only gunicorn processes import this module's helper

    class JsonLogger(Logger):
        def setup(self, cfg):
            super().setup(cfg)
            for handler in self.error_log.handlers:
                handler.setFormatter(JsonFormatter(service))

    return JsonLogger
