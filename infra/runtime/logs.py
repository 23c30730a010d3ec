"""JSON log lines on stdout, one per event, with card data masked as a last line of defence."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from datetime import datetime, timezone

from infra.runtime.redaction import mask_card_numbers

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = self._entry(record.created, record.levelname, record.process, record.name, record.getMessage())
        entry |= {key: value for key, value in vars(record).items() if key not in _STANDARD}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return mask_card_numbers(json.dumps(entry, default=str))

    def format_fields(self, level: int, logger: str, message: str, fields: dict) -> str:
        """The line ``format`` writes for a record of these ``extra`` fields, without building the record."""
        entry = self._entry(time.time(), logging.getLevelName(level), os.getpid(), logger, message) | fields
        return mask_card_numbers(json.dumps(entry, default=str))

    def _entry(self, created: float, level_name: str, pid: int | None, logger: str, message: str) -> dict:
        return {
            "ts": datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": level_name.lower(),
            "service": self._service,
            "pid": pid,  # which gunicorn worker (or process) wrote it
            "logger": logger,
            "msg": message,
        }


class BatchedStreamHandler(logging.StreamHandler):
    """A StreamHandler that writes its lines at most every ``interval`` seconds, and at once from a
    WARNING or worse: an API worker logs one access line per request, and a write per line was a
    write(2) and a wake-up of the process reading the pipe per request (`make run`'s console, the
    benchmark's relay), whatever the stream's buffering (the stack runs services with
    PYTHONUNBUFFERED). Lines reach the reader within ``interval``, in order; a process killed with
    SIGKILL loses at most that much; ``logging.shutdown`` at exit writes what is left."""

    lock: threading.RLock  # logging.Handler.__init__ creates it (typeshed allows None: a subclass may not)

    def __init__(self, stream, interval: float = 0.1):
        super().__init__(stream)
        self._interval = interval
        self._lines: list[str] = []
        self._dirty = threading.Event()
        self._flusher_pid: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write_line(self.format(record), record.levelno)
        except Exception:  # noqa: BLE001 - logging's own contract: report, never raise into the caller
            self.handleError(record)

    def write_line(self, line: str, level: int) -> None:
        with self.lock:
            self._lines.append(line + self.terminator)
        if level >= logging.WARNING:
            self.flush()
        else:
            self._flush_soon()

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


def log_fields(logger: logging.Logger, level: int, message: str, fields: dict) -> None:
    """``logger.log(level, message, extra=fields)``, the same line at a fraction of the cost (an API
    worker logs one per request; the LogRecord, its caller lookup and the handler chain were ~8% of a
    POST's CPU): when the only handler on the way is the JSON one ``configure_logging`` installs, the
    line is formatted from the fields and queued on it directly. Anything else (pytest's caplog, a
    filter, another handler) gets the record, as before."""
    handler = _only_json_handler(logger, level)
    if handler is None:
        if logger.isEnabledFor(level):
            logger.log(level, message, extra=fields)
        return
    if not logger.isEnabledFor(level):
        return
    try:
        formatter = handler.formatter
        assert isinstance(formatter, JsonFormatter), "_only_json_handler returns a handler with one"
        handler.write_line(formatter.format_fields(level, logger.name, message, fields), level)
    except Exception:  # noqa: BLE001 - as a handler does: report, never raise into the request
        logger.log(level, message, extra=fields)


def _only_json_handler(logger: logging.Logger, level: int) -> BatchedStreamHandler | None:
    found: BatchedStreamHandler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        for handler in current.handlers:
            if (
                found is not None
                or type(handler) is not BatchedStreamHandler
                or handler.filters
                or type(handler.formatter) is not JsonFormatter
                or level < handler.level
            ):
                return None
            found = handler
        current = current.parent if current.propagate else None
    return found


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
