"""`make trace`'s reading of Jaeger's OTLP JSON and its waterfall (scripts/trace.py)."""

from __future__ import annotations

from typing import Any

import pytest

from mesh.settings import load
from scripts import trace

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def span(span_id: str, parent: str, name: str, start_ms: int, end_ms: int, kind: int = 2,
         status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"traceId": TRACE, "spanId": span_id, "parentSpanId": parent, "name": name, "kind": kind,
            "startTimeUnixNano": str(start_ms * 1_000_000), "endTimeUnixNano": str(end_ms * 1_000_000),
            "status": status or {}}


def resource(service: str, *spans: dict[str, Any]) -> dict[str, Any]:
    return {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
            "scopeSpans": [{"scope": {}, "spans": list(spans)}]}


DOCUMENT = {"result": {"resourceSpans": [
    resource("video-query", span("0000000000000004", "0000000000000003", "process VideoPublished", 130, 140, 5)),
    resource("envoy", span("0000000000000001", "", "ingress", 0, 100)),
    resource("web-bff", span("0000000000000002", "0000000000000001", "WebBffService/PublishVideo", 10, 90),
             span("0000000000000005", "00000000000000ff", "lost parent", 95, 96, 3)),
    resource("video-command", span("0000000000000003", "0000000000000002", "outbox video.v1.events", 20, 30, 4,
                                   {"code": 2, "message": "UNAVAILABLE"})),
]}}


def test_spans_are_read_with_their_service_kind_and_status() -> None:
    spans = {s.span_id[-1]: s for s in trace.parse(DOCUMENT)}
    assert (spans["4"].service, spans["4"].kind, spans["4"].duration_ms) == ("video-query", "consumer", 10.0)
    assert spans["3"].error == "UNAVAILABLE" and spans["1"].error is None


def test_children_follow_their_parent_and_an_orphan_is_a_root() -> None:
    rows = [(depth, s.name) for depth, s in trace.ordered(trace.parse(DOCUMENT))]
    assert rows == [(0, "ingress"), (1, "WebBffService/PublishVideo"), (2, "outbox video.v1.events"),
                    (3, "process VideoPublished"), (0, "lost parent")]


def test_the_waterfall_places_each_span_on_one_time_scale() -> None:
    lines = trace.waterfall(trace.parse(DOCUMENT)).splitlines()
    assert lines[0] == (f"trace {TRACE}: 5 spans, 140.0 ms, services envoy, video-command, video-query, web-bff")
    bars = {line.split("|")[2].split()[3]: line.split("|")[1] for line in lines[1:]}
    assert bars["ingress"].startswith("=" * 28)  # 100 of 140 ms: from the left edge
    assert bars["process"].strip() and bars["process"].index("=") >= 36  # after the request ended
    assert "ERROR: UNAVAILABLE" in next(line for line in lines if "outbox" in line)


def test_a_trace_id_that_is_not_one_is_refused() -> None:
    with pytest.raises(trace.TraceError, match="not a trace id"):
        trace.choose(load(environ={}), ["4bf92f35-not-hex"])
