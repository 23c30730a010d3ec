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


def gunicorn_logconfig(service: str, level: str = "INFO") -> dict:
    """gunicorn's own lines (start-up, workers booting and exiting, errors) as the same JSON lines.

    For ``logconfig_dict`` in a gunicorn config: without it the master's lines are plain text in
    the middle of the service's JSON log.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter, "service": service}},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
        "root": {"level": level.upper(), "handlers": ["stdout"]},
        "loggers": {name: {"level": level.upper(), "handlers": [], "propagate": True}
                    for name in ("gunicorn.error", "gunicorn.access")},
    }
