"""JSON log lines on stdout, one per event, with card data masked as a last line of defence."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import weakref
from datetime import datetime, timezone

from infra.runtime.process_id import current_pid
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

    def format_fields(
        self, level: int, logger: str, message: str, fields: dict, created: float | None = None, pid: int | None = None
    ) -> str:
        """The line ``format`` writes for a record of these ``extra`` fields, without building the record
        (``created`` and ``pid``: when and where it was logged, now and here by default)."""
        created = time.time() if created is None else created
        entry = self._entry(
            created, logging.getLevelName(level), current_pid() if pid is None else pid, logger, message
        )
        entry |= fields
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
    SIGKILL loses at most that much; ``logging.shutdown`` at exit writes what is left.

    Lines queued with ``write_fields`` (the access log, one per request) are formatted when they are
    written, all of them in one go on the flusher's thread, instead of in the request's thread:
    formatting a line (the JSON and the card masking) cost ~80 us of a request's CPU between
    everything else the request does, and ~16 us in a loop of lines (docs/benchmarks-api.md).
    Their time and process id are taken when they are queued."""

    lock: threading.RLock  # logging.Handler.__init__ creates it (typeshed allows None: a subclass may not)

    def __init__(self, stream, interval: float = 0.1):
        super().__init__(stream)
        self._interval = interval
        self._lines: list = []  # a line, or the fields of one still to format (_Deferred)
        self._writing = threading.Lock()  # one writer at a time: lines leave in the order they came
        self._dirty = threading.Event()
        self._flusher_pid: int | None = None
        _HANDLERS.add(self)

    def _after_fork_in_child(self) -> None:
        """A forked child (a gunicorn worker) starts with fresh locks, whatever thread of the parent
        held them, and without the parent's queued lines, which the parent writes itself."""
        self._writing = threading.Lock()
        self._dirty = threading.Event()
        self._lines = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write_line(self.format(record), record.levelno)
        except Exception:  # noqa: BLE001 - logging's own contract: report, never raise into the caller
            self.handleError(record)

    def write_line(self, line: str, level: int) -> None:
        self._queue(line + self.terminator, level)

    def write_fields(self, formatter: "JsonFormatter", level: int, logger: str, message: str, fields: dict) -> None:
        """The line ``formatter.format_fields`` gives for these, formatted when it is written."""
        self._queue(_Deferred(formatter, time.time(), current_pid(), level, logger, message, fields), level)

    def _queue(self, entry, level: int) -> None:
        with self.lock:
            self._lines.append(entry)
        if level >= logging.WARNING:
            self.flush()
        else:
            self._flush_soon()

    def flush(self) -> None:
        with self._writing:
            with self.lock:
                entries, self._lines = self._lines, []
            if entries and self.stream:
                self.stream.write("".join(self._text(entry) for entry in entries))
            if self.stream and hasattr(self.stream, "flush"):
                self.stream.flush()

    def _text(self, entry) -> str:
        if isinstance(entry, str):
            return entry
        try:
            return entry.line() + self.terminator
        except Exception as exc:  # noqa: BLE001 - one bad line never stops the others
            return (
                json.dumps(
                    {"level": "error", "msg": "a log line could not be formatted", "error_class": type(exc).__name__}
                )
                + self.terminator
            )

    def _flush_soon(self) -> None:
        self._dirty.set()
        if self._flusher_pid != current_pid():  # first line of this process (gunicorn forks its workers)
            with self.lock:
                if self._flusher_pid != current_pid():
                    self._flusher_pid = current_pid()
                    threading.Thread(target=self._flush_forever, name="log-flusher", daemon=True).start()

    def _flush_forever(self) -> None:
        while True:
            self._dirty.wait()
            time.sleep(self._interval)
            self._dirty.clear()
            self.flush()


_HANDLERS: "weakref.WeakSet[BatchedStreamHandler]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for handler in list(_HANDLERS):
        handler._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)


class _Deferred:
    """An access line's fields, queued to be formatted when the handler writes it."""

    __slots__ = ("formatter", "created", "pid", "level", "logger", "message", "fields")

    def __init__(
        self, formatter: "JsonFormatter", created: float, pid: int, level: int, logger: str, message: str, fields: dict
    ):
        self.formatter, self.created, self.pid, self.level = formatter, created, pid, level
        self.logger, self.message, self.fields = logger, message, fields

    def line(self) -> str:
        return self.formatter.format_fields(self.level, self.logger, self.message, self.fields, self.created, self.pid)


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
    formatter = handler.formatter
    assert isinstance(formatter, JsonFormatter), "_only_json_handler returns a handler with one"
    handler.write_fields(formatter, level, logger.name, message, fields)


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
