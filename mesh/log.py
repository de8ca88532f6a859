"""JSON-lines logging on stdout, with the service name and trace id on every line.

The trace id comes from the W3C `traceparent` of the request being served: the server
interceptor calls `bind_traceparent()` for each call (a new trace when the caller sent
none), and the processor below adds it to every line logged while serving that call.
Other modules simply use `structlog.get_logger(__name__)`.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
from contextvars import ContextVar, Token
from typing import Any

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, Processor, WrappedLogger

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_traceparent: ContextVar[str | None] = ContextVar("vidmesh_traceparent", default=None)
_service = {"name": "unknown"}


def new_traceparent(trace_id: str | None = None) -> str:
    """A fresh W3C traceparent (sampled), continuing `trace_id` when given."""
    return f"00-{trace_id or secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def parse_trace_id(traceparent: str | None) -> str | None:
    """The trace id of a well-formed traceparent header, else None (all-zero ids are invalid)."""
    match = _TRACEPARENT.match((traceparent or "").strip().lower())
    if not match or match.group(1) == "ff" or set(match.group(2)) == {"0"} or set(match.group(3)) == {"0"}:
        return None
    return match.group(2)


def bind_traceparent(incoming: str | None) -> Token[str | None]:
    """Make this call's trace current: continue the caller's trace or start a new one.

    Our own span id replaces the caller's, so the traceparent we send downstream names us
    as the parent. Returns the token for `reset_traceparent`.
    """
    return _traceparent.set(new_traceparent(parse_trace_id(incoming)))


def reset_traceparent(token: Token[str | None]) -> None:
    """Restore the trace that was current before `bind_traceparent`."""
    _traceparent.reset(token)


def current_traceparent() -> str | None:
    """The traceparent to send on outgoing calls and events, or None outside a request."""
    return _traceparent.get()


def current_trace_id() -> str | None:
    """The trace id of the request being served, or None outside a request."""
    return parse_trace_id(_traceparent.get())


def _add_service_and_trace(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    event_dict.setdefault("service", _service["name"])
    event_dict.setdefault("trace_id", current_trace_id())
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
    handler = logging.StreamHandler(sys.stdout)
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
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # httpx logs every request at info: the blocking queries to Consul would fill the log.
    logging.getLogger("httpx").setLevel(max(numeric, logging.WARNING))


def get_logger(name: str | None = None, **initial: Any) -> structlog.typing.FilteringBoundLogger:
    """A logger bound to `name` (usually `__name__`) and any initial key-values."""
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name, **initial)
    return logger
