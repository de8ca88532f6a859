"""JSON-lines logging on stdout, with the service name and trace id on every line.

The trace and span ids are those of the current OpenTelemetry span (mesh/tracing.py): the
server interceptor opens a span per call, continuing the caller's W3C `traceparent` or
starting a trace, and a consumer one per event, so a log line names the very span it was
written in and Jaeger finds it by that id. Other modules simply use
`structlog.get_logger(__name__)`.

Lines are written in batches (BatchedHandler): a line per RPC, each its own write to the pipe
and its own wake-up of process-compose on the other end, cost process-compose 8.8% of a core
under the web page's load (3.9% batched).
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, Processor, WrappedLogger

from mesh import tracing

_service = {"name": "unknown"}
FLUSH_EVERY_S = 0.1  # the longest an info line waits in memory before it is written


class BatchedHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler that writes what it has at most every FLUSH_EVERY_S, in one write.

    A warning or worse is written at once, with every line before it, and so is everything
    left at exit (logging.shutdown flushes each handler); only a process killed outright
    (SIGKILL, a crash in C code) loses its last tenth of a second of info lines."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._closed = threading.Event()
        threading.Thread(target=self._flush_every, name="log-flush", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        """Format the record now (its context is now), write it later."""
        try:
            self._pending.append(self.format(record) + self.terminator)
        except Exception:
            self.handleError(record)
            return
        if record.levelno >= logging.WARNING:
            self.flush()

    def flush(self) -> None:
        """Write every pending line, in one write."""
        with self.lock:  # type: ignore[union-attr]  # an RLock: emit() holds it when it flushes
            if self._pending:
                text, self._pending = "".join(self._pending), []
                self.stream.write(text)
            super().flush()

    def close(self) -> None:
        """Write what is pending and stop the flushing thread."""
        self._closed.set()
        self.flush()
        super().close()

    def _flush_every(self) -> None:
        while not self._closed.wait(FLUSH_EVERY_S):
            try:
                self.flush()
            except (OSError, ValueError):  # stdout closed or gone: nothing left to write to
                return


def flush() -> None:
    """Write the lines still pending now (a test reading the output, a process about to exit)."""
    for handler in logging.getLogger().handlers:
        handler.flush()


def current_traceparent() -> str | None:
    """The traceparent to send on outgoing calls and events, or None outside a request."""
    return tracing.current_traceparent()


def current_trace_id() -> str | None:
    """The trace id of the request being served, or None outside a request."""
    ids = tracing.current_ids()
    return ids[0] if ids else None


def _add_service_and_trace(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    event_dict.setdefault("service", _service["name"])
    ids = tracing.current_ids()
    event_dict.setdefault("trace_id", ids[0] if ids else None)
    if ids:
        event_dict.setdefault("span_id", ids[1])
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service_and_trace,
    ]


def configure(service_name: str, level: str = "info") -> None:
    """Send structlog and stdlib logging (grpc, consul, kafka) as JSON lines to stdout."""
    _service["name"] = service_name
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    # structlog hands its events to stdlib logging, so library records and ours share one
    # formatter and one stream, and `structlog.get_logger(__name__)` keeps the logger name.
    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        # No caching: a second configure() (tests, tools) and structlog.testing must still apply.
        cache_logger_on_first_use=False,
    )
    handler = BatchedHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_shared_processors(),
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                # Locals stay out of tracebacks: they may hold passwords or tokens.
                structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    for replaced in root.handlers:
        if isinstance(replaced, BatchedHandler):
            replaced.close()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # httpx logs every request at info: the blocking queries to Consul would fill the log.
    logging.getLogger("httpx").setLevel(max(numeric, logging.WARNING))


def get_logger(name: str | None = None, **initial: Any) -> structlog.typing.FilteringBoundLogger:
    """A logger bound to `name` (usually `__name__`) and any initial key-values."""
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name, **initial)
    return logger
