"""Step 7, seeing it work: the trace of the tour's publish, and a few live metrics."""

from __future__ import annotations

from typing import Any

import httpx

from scripts import trace
from scripts.demo import show
from scripts.demo.calls import expect
from scripts.demo.world import Demo

WHY = """Every process exports OpenTelemetry spans to Jaeger, and the trace context of the request
travels in the event envelope, so the publish of setup is one trace: the gateway, web-bff,
video-command and its outbox write, then, after the answer went back, the relay's publish,
video-query's projection, notification and, through notification's own outbox, email's SMTP
send. Prometheus finds every instance through Consul (its metrics port is in the registration)
and scrapes it; the projection lag and the outbox backlog below are live."""
UP, FOUND = "instances scraped and up", "instances found in Consul"
SERVICES = ("envoy", "web-bff", "video-command", "video-query", "notification", "email")
METRICS = (
    ("video-query's projection lag (s)", 'max(vidmesh_consumer_lag_seconds{service="video-query"})'),
    ("events waiting in outboxes", "sum(vidmesh_outbox_unsent_rows)"),
    ("video-query RPCs per second", 'sum(rate(grpc_server_handled_total{service="video-query"}[1m]))'),
    (UP, 'sum(up{job="vidmesh"})'),
    (FOUND, 'count(up{job="vidmesh"})'),
)
TRACE_WAIT_S = 30.0


def run(demo: Demo) -> str:
    """Print the publish's waterfall and the metrics; check the trace reached every service."""
    show.heading(7, "Seeing it", "the publish as one trace in Jaeger, and live metrics from Prometheus")
    show.explain(WHY)
    s = demo.settings
    show.command(f"make trace ID={demo.publish_trace}   # or: curl -s {trace.query_url(s)}/api/v3/traces/"
                 f"{demo.publish_trace}")
    spans = trace.wait_for(trace.query_url(s), demo.publish_trace, SERVICES, timeout=TRACE_WAIT_S)
    show.result(trace.waterfall(spans), max_lines=60)
    seen = {span.service for span in spans}
    expect(set(SERVICES) <= seen, f"one trace through {', '.join(SERVICES)} ({len(spans)} spans)")
    prometheus = f"http://{s.host}:{s.prometheus_port}"
    show.command(f"curl -s {prometheus}/api/v1/query --data-urlencode 'query={METRICS[0][1]}'")
    values = {label: _query(prometheus, query) for label, query in METRICS}
    show.result("\n".join(f"{label:<36} {_shown(value)}" for label, value in values.items()))
    expect(all(value is not None for value in values.values()), "Prometheus answers every query")
    return f"{len(spans)} spans in one trace; {_shown(values[UP])} of {_shown(values[FOUND])} instances up"


def _query(prometheus: str, query: str) -> float | None:
    try:
        answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": query}, timeout=5)
        answer.raise_for_status()
    except httpx.HTTPError:
        return None
    result: list[dict[str, Any]] = answer.json()["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def _shown(value: float | None) -> str:
    return "no answer" if value is None else f"{value:g}"
