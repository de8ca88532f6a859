"""Envoy's own time per request, read from its spans in Jaeger.

Envoy opens two spans for a request it routes (gateway/envoy.yaml: `spawn_upstream_span`):
the request's, from its first byte in to its last byte out, and inside it the upstream
request's, from the first byte sent to web-bff to the last byte back. What the first holds
and the second does not is the gateway's own work: its filters, the route, and writing to
and reading from its second connection. The gateway row's added latency (the client's p50
through Envoy minus direct) is that plus the hop itself: one more process to wake and one
more connection to cross. Durations come from one clock (Envoy's), so they are exact to the
microsecond, unlike the client's difference of two noisy runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from scripts.bench.stats import percentile
from scripts.trace import Span, parse

GATEWAY_SERVICE = "envoy"
UPSTREAM_PREFIX = "web-bff "  # the upstream span's name: "%UPSTREAM_CLUSTER% %REQ(:PATH)%"
MAX_TRACES = 2000
QUERY_TIMEOUT_S = 30.0
ARRIVAL_TIMEOUT_S = 20.0  # Envoy exports its spans in batches, and Jaeger indexes them after
ARRIVED_SHARE = 0.95  # of the requests answered, for the spans to count as in


@dataclass(frozen=True)
class GatewayTimes:
    """Per routed request, in ms: Envoy's own time, and the part of it before the upstream began."""

    own_ms: list[float]
    before_upstream_ms: list[float]

    def p(self, q: float, before: bool = False) -> float:
        """A percentile of the own times (or of the times before the upstream request)."""
        return percentile(self.before_upstream_ms if before else self.own_ms, q)


def own_times(spans: list[Span]) -> GatewayTimes:
    """For each request span of the gateway that has exactly one upstream span to web-bff as
    its child: the request's duration minus the upstream's, and the gap before the upstream."""
    gateway = [span for span in spans if span.service == GATEWAY_SERVICE]
    upstreams: dict[tuple[str, str], list[Span]] = {}
    for span in gateway:
        if span.name.startswith(UPSTREAM_PREFIX):
            upstreams.setdefault((span.trace_id, span.parent_id), []).append(span)
    own, before = [], []
    for request in gateway:
        children = upstreams.get((request.trace_id, request.span_id), [])
        if request.name.startswith(UPSTREAM_PREFIX) or len(children) != 1:
            continue  # a retried request has two upstreams: its own time is not one gap
        upstream = children[0]
        own.append(((request.end_ns - request.start_ns) - (upstream.end_ns - upstream.start_ns)) / 1e6)
        before.append((upstream.start_ns - request.start_ns) / 1e6)
    return GatewayTimes(own, before)


def measured(base_url: str, operation: str, began: datetime, ended: datetime, answered: int) -> GatewayTimes:
    """The own times of the gateway's `operation` requests that started between `began` and
    `ended` (Jaeger's query API, api/v3), once the spans of nearly all `answered` requests are
    in (bounded: whatever is in by then)."""
    params = {"query.service_name": GATEWAY_SERVICE, "query.operation_name": operation,
              "query.num_traces": str(MAX_TRACES), "query.start_time_min": began.astimezone(UTC).isoformat(),
              "query.start_time_max": ended.astimezone(UTC).isoformat()}
    deadline = time.monotonic() + ARRIVAL_TIMEOUT_S
    while True:
        answer = httpx.get(f"{base_url}/api/v3/traces", params=params, timeout=QUERY_TIMEOUT_S)
        if answer.status_code != 404:  # 404: no trace matched (yet)
            answer.raise_for_status()
        times = own_times(parse(answer.json())) if answer.status_code != 404 else GatewayTimes([], [])
        if len(times.own_ms) >= ARRIVED_SHARE * answered or time.monotonic() > deadline:
            return times
        time.sleep(0.5)  # polling interval of a bounded wait for spans in transit
