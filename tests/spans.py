"""Spans that mesh/tracing.py records in a test process, kept in memory.

Tracing is set up once per test session (OpenTelemetry's global provider is set only once), as
a service's would be but with an in-memory exporter; the `spans` fixture (tests/conftest.py)
empties it before each test that asks for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mesh import tracing

_EXPORTER = InMemorySpanExporter()


def recorder() -> InMemorySpanExporter:
    """The session's exporter, set up on first use."""
    if not tracing.configured():
        tracing.configure("tests", "tests", {"VIDMESH_TRACING": "true"}, processor=SimpleSpanProcessor(_EXPORTER))
    return _EXPORTER


def named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    """The finished spans called `name`."""
    return [span for span in exporter.get_finished_spans() if span.name == name]


async def wait_named(exporter: InMemorySpanExporter, name: str, count: int, timeout: float = 5.0) -> list[ReadableSpan]:
    """The first `count` finished spans called `name`, waiting (bounded) for them: a server ends
    its span after the client already has its answer."""
    deadline = time.monotonic() + timeout
    while len(found := named(exporter, name)) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.01)  # polling interval of a bounded wait
    assert len(found) >= count, f"{len(found)} spans named {name!r} after {timeout}s, wanted {count}"
    return found[:count]


async def wait_span(exporter: InMemorySpanExporter, wanted: Callable[[ReadableSpan], bool],
                    timeout: float = 10.0) -> ReadableSpan:
    """The first finished span `wanted` accepts, waiting (bounded) for it."""
    deadline = time.monotonic() + timeout
    while True:
        found = [span for span in exporter.get_finished_spans() if wanted(span)]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no such span after {timeout}s"
        await asyncio.sleep(0.02)  # polling interval of a bounded wait


def attribute(span: ReadableSpan, key: str) -> object:
    """One attribute of a span (None when it has none)."""
    return (span.attributes or {}).get(key)


def parent_id(span: ReadableSpan) -> int | None:
    """The span id of its parent, None for a root span."""
    return int(span.parent.span_id) if span.parent else None


def span_id(span: ReadableSpan) -> int:
    """Its own span id."""
    assert span.context is not None
    return int(span.context.span_id)


def trace_id(span: ReadableSpan) -> int:
    """Its trace id."""
    assert span.context is not None
    return int(span.context.trace_id)
