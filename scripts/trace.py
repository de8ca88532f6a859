"""`make trace` (`python -m scripts.trace [TRACE_ID]`): one trace as a waterfall in the terminal.

Without an id it prints the trace of the last `make demo`'s publish (whose id the demo keeps
in the stack's run folder), or else the newest trace that went through the gateway. The
spans come from Jaeger's query API (`GET /api/v3/traces/{id}`, OTLP JSON), the same API the
UI reads, so the Go build of Jaeger, which serves no UI, is enough:

    |=========================================| 212.4 ms  envoy          ingress POST /api/web/v1/videos/...
    | ======================================  | 198.0 ms  web-bff          vidmesh.webbff.v1.WebBffService/PublishVideo
    |  ===                                    |  21.2 ms  video-command      vidmesh.video.v1.VideoCommandService/...
    |                    =                    |   4.1 ms  video-query          process VideoPublished
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from mesh.settings import Settings, load
from scripts.devstack.layout import Layout

BAR = 40
LATEST_WINDOW = timedelta(hours=1)
KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
STATUS_ERROR = 2
TRACE_ID = re.compile(r"[0-9a-f]{32}")


class TraceError(RuntimeError):
    """No trace to show; the message says why."""


@dataclass(frozen=True, kw_only=True)
class Span:
    """One span as the waterfall needs it."""

    trace_id: str
    span_id: str
    parent_id: str
    service: str
    name: str
    kind: str
    start_ns: int
    end_ns: int
    error: str | None  # the status message of a failed span

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


def query_url(s: Settings) -> str:
    """Jaeger's query API on the stack."""
    return f"http://{s.host}:{s.jaeger_query_port}"


def demo_trace_file(s: Settings) -> Path:
    """Where `make demo` leaves the trace id of its publish."""
    return Layout(s).run / "demo-trace"


def parse(document: Mapping[str, Any]) -> list[Span]:
    """The spans of an OTLP JSON answer (`{"result": {"resourceSpans": [...]}}`)."""
    spans = []
    for resource in document.get("result", {}).get("resourceSpans", []):
        attributes = {a["key"]: a.get("value", {}).get("stringValue", "")
                      for a in resource.get("resource", {}).get("attributes", [])}
        service = attributes.get("service.name", "?")
        for scope in resource.get("scopeSpans", []):
            for raw in scope.get("spans", []):
                status = raw.get("status", {})
                failed = status.get("code") in (STATUS_ERROR, "STATUS_CODE_ERROR")
                spans.append(Span(trace_id=raw["traceId"], span_id=raw["spanId"], parent_id=raw.get("parentSpanId", ""),
                                  service=service, name=raw.get("name", ""), kind=KINDS.get(raw.get("kind", 0), ""),
                                  start_ns=int(raw.get("startTimeUnixNano", 0)),
                                  end_ns=int(raw.get("endTimeUnixNano", 0)),
                                  error=(status.get("message") or "error") if failed else None))
    return spans


def fetch(base_url: str, trace_id: str, timeout: float = 5.0) -> list[Span]:
    """Every span Jaeger holds for `trace_id` (none when it knows no such trace)."""
    answer = httpx.get(f"{base_url}/api/v3/traces/{trace_id}", timeout=timeout)
    if answer.status_code == 404:
        return []
    answer.raise_for_status()
    return parse(answer.json())


def wait_for(base_url: str, trace_id: str, services: Iterable[str], timeout: float = 15.0) -> list[Span]:
    """The trace once it has spans from every one of `services` (bounded: whatever it has then)."""
    wanted, deadline = set(services), time.monotonic() + timeout
    while True:
        try:
            spans = fetch(base_url, trace_id)
        except httpx.HTTPError:
            spans = []
        if wanted <= {span.service for span in spans} or time.monotonic() > deadline:
            return spans
        time.sleep(0.25)  # polling interval of a bounded wait: spans arrive in batches


def latest(base_url: str, service: str = "envoy") -> str | None:
    """The id of the newest trace that `service` took part in within the last hour."""
    now = datetime.now(UTC)
    params = {"query.service_name": service, "query.num_traces": "20",
              "query.start_time_min": (now - LATEST_WINDOW).isoformat(), "query.start_time_max": now.isoformat()}
    answer = httpx.get(f"{base_url}/api/v3/traces", params=params, timeout=10)
    if answer.status_code == 404:
        return None
    answer.raise_for_status()
    spans = parse(answer.json())
    return max(spans, key=lambda span: span.start_ns).trace_id if spans else None


def ordered(spans: list[Span]) -> list[tuple[int, Span]]:
    """(depth, span) depth first, children by start time; a span whose parent is missing
    from the trace is shown as a root."""
    ids = {span.span_id for span in spans}
    children: dict[str, list[Span]] = {}
    for span in spans:
        children.setdefault(span.parent_id if span.parent_id in ids else "", []).append(span)
    rows: list[tuple[int, Span]] = []

    def visit(parent: str, depth: int) -> None:
        for span in sorted(children.get(parent, []), key=lambda s: s.start_ns):
            rows.append((depth, span))
            visit(span.span_id, depth + 1)

    visit("", 0)
    return rows


def waterfall(spans: list[Span]) -> str:
    """The trace as text: a bar for where each span sits in time, its duration, service and name."""
    if not spans:
        return "(no spans)"
    began, ended = min(s.start_ns for s in spans), max(s.end_ns for s in spans)
    scale = BAR / max(ended - began, 1)
    services = sorted({s.service for s in spans})
    width = max(len(name) for name in services) + 2
    lines = [f"trace {spans[0].trace_id}: {len(spans)} spans, {(ended - began) / 1e6:.1f} ms, "
             f"services {', '.join(services)}"]
    for depth, span in ordered(spans):
        left = int((span.start_ns - began) * scale)
        length = max(1, round((span.end_ns - span.start_ns) * scale))
        bar = (" " * left + "=" * length)[:BAR].ljust(BAR)
        status = f"  ERROR: {span.error}" if span.error else ""
        lines.append(f"|{bar}| {span.duration_ms:8.1f} ms  {span.service:<{width}}{'  ' * depth}{span.name}"
                     f"  ({span.kind}){status}")
    return "\n".join(lines)


def choose(s: Settings, argv: list[str]) -> str:
    """The trace id to show: the one given, the demo's, or the newest through the gateway."""
    if argv:
        if not TRACE_ID.fullmatch(argv[0].strip().lower()):
            raise TraceError(f"{argv[0]!r} is not a trace id (32 hex digits, as in a traceparent)")
        return argv[0].strip().lower()
    remembered = demo_trace_file(s)
    if remembered.exists():
        return remembered.read_text().strip()
    newest = latest(query_url(s))
    if newest is None:
        raise TraceError("no trace through the gateway in the last hour: make a request (or `make demo`) first")
    return newest


def main(argv: list[str]) -> int:
    """Print one trace; 1 when there is none to print."""
    s = load()
    try:
        trace_id = choose(s, argv)
        spans = fetch(query_url(s), trace_id)
    except (TraceError, httpx.HTTPError) as error:
        print(f"trace: {error} (is the stack running? `make start`)", file=sys.stderr)
        return 1
    if not spans:
        print(f"trace: Jaeger at {query_url(s)} has no trace {trace_id}", file=sys.stderr)
        return 1
    print(waterfall(spans))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
