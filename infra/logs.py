"""JSON log lines on stdout, one per event, with card data masked as a last line of defence."""
from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
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


class BatchedStreamHandler(logging.StreamHandler):
    """A StreamHandler that writes its lines at most every ``interval`` seconds, and at once from a
    WARNING or worse: an API worker logs one access line per request, and a write per line was a
    write(2) and a wake-up of the process reading the pipe per request (`make run`'s console, the
    benchmark's relay), whatever the stream's buffering (the stack runs services with
    PYTHONUNBUFFERED). Lines reach the reader within ``interval``, in order; a process killed with
    SIGKILL loses at most that much; ``logging.shutdown`` at exit writes what is left."""

    def __init__(self, stream, interval: float = 0.1):
        super().__init__(stream)
        self._interval = interval
        self._lines: list[str] = []
        self._dirty = threading.Event()
        self._flusher_pid: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            with self.lock:
                self._lines.append(line)
            if record.levelno >= logging.WARNING:
                self.flush()
            else:
                self._flush_soon()
        except Exception:  # noqa: BLE001 - logging's own contract: report, never raise into the caller
            self.handleError(record)

    def flush(self) -> None:
        with self.lock:
            lines, self._lines = self._lines, []
            if lines and self.stream:
                self.stream.write("".join(lines))
            if self.stream and hasattr(self.stream, "flush"):
                self.stream.flush()

    def _flush_soon(self) -> None:
        self._dirty.set()
        if self._flusher_pid != os.getpid():  # first line of this process (gunicorn forks its workers)
            with self.lock:
                if self._flusher_pid != os.getpid():
                    self._flusher_pid = os.getpid()
                    threading.Thread(target=self._flush_forever, name="log-flusher", daemon=True).start()

    def _flush_forever(self) -> None:
        while True:
            self._dirty.wait()
            time.sleep(self._interval)
            self._dirty.clear()
            self.flush()


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = BatchedStreamHandler(sys.stdout)
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
