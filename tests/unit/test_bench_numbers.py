"""How the price list turns the load generators' reports into numbers (scripts/bench): what
counts as a success, a failure or a call cut off at the end, and which sample a percentile is."""

from __future__ import annotations

import asyncio
import math
from collections import Counter

import grpc
import grpc.aio
import pytest

from scripts.bench.gateway_time import own_times
from scripts.bench.lag import LagRun, _answered
from scripts.bench.load import Load, _from_ghz, _from_vegeta_csv
from scripts.bench.pipeline import PipelineRun
from scripts.bench.report import Row, markdown
from scripts.bench.sections import _lag_row, pipeline_rows
from scripts.bench.stack import Measure, table
from scripts.bench.stats import percentile
from scripts.trace import parse


def test_a_percentile_is_a_sample_that_happened() -> None:
    samples = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(samples, 50) == 3.0
    assert percentile(samples, 99) == 5.0
    assert percentile(samples, 1) == 1.0
    assert math.isnan(percentile([], 50))


def test_ghz_calls_cut_off_at_the_end_are_neither_successes_nor_failures() -> None:
    report = {"total": 2_000_000_000, "details": [
        {"status": "OK", "latency": 3_000_000},
        {"status": "OK", "latency": 5_000_000},
        {"status": "Unavailable", "error": "rpc error: code = Unavailable desc = no healthy upstream"},
        {"status": "Canceled", "error": "rpc error: code = Canceled desc = grpc: the client connection is closing"
                                        " context canceled"},
    ]}
    run = _from_ghz(report)
    assert (run.ok, run.failed, run.seconds) == (2, 1, 2.0)
    assert run.latencies_ms == [3.0, 5.0]
    assert run.rps == 1.0
    assert list(run.errors) == ["rpc error: code = Unavailable desc = no healthy upstream"]


def test_vegeta_counts_non_200_as_failed_and_times_the_whole_run() -> None:
    # timestamp (ns), code, latency (ns), bytes out, bytes in, error, body, attack, seq, method, url, headers
    csv_text = "\n".join([
        "1000000000,200,2000000,0,10,,,,0,GET,http://127.0.0.1/x,",
        "1500000000,503,1000000,0,10,503 Service Unavailable,,,1,GET,http://127.0.0.1/x,",
        "2000000000,200,1000000000,0,10,,,,2,GET,http://127.0.0.1/x,",
    ])
    run = _from_vegeta_csv(csv_text)
    assert (run.ok, run.failed) == (2, 1)
    assert run.seconds == 2.0  # from the first start to the last answer
    assert run.latencies_ms == [2.0, 1000.0]


def test_the_table_marks_each_target_and_heads_each_section_once() -> None:
    rows = [Row("a", "one", "1", target="<= 1", met=True), Row("a", "two", "2", target="<= 1", met=False),
            Row("b", "three", "3")]
    table = markdown(rows, "heading").splitlines()
    assert table.count("| **a** | | | |") == 1
    assert "| one | 1 |  | <= 1 ✓ |" in table
    assert "| two | 2 |  | <= 1 ✗ |" in table
    assert "| three | 3 |  |  |" in table


async def _failing(code: grpc.StatusCode) -> float:
    raise grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="from the test")


@pytest.mark.parametrize("code", [grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED])
def test_a_probe_an_overloaded_service_did_not_answer_is_counted_not_raised(code: grpc.StatusCode) -> None:
    assert asyncio.run(_answered(_failing(code))) is code


def test_a_probe_that_failed_any_other_way_stops_the_run() -> None:
    with pytest.raises(grpc.aio.AioRpcError):
        asyncio.run(_answered(_failing(grpc.StatusCode.INTERNAL)))


def test_a_lag_row_with_unanswered_probes_names_their_status_and_misses_its_target() -> None:
    run = LagRun([1.0, 2.0], stale=0, unanswered=Counter({"CANCELLED": 2}))
    row = _lag_row("lag", "busy", run, "p99 <= 100 ms", lambda _: True)
    assert "2 CANCELLED" in row.absolute
    assert row.met is False
    assert row.numbers["unanswered"] == 2


def test_the_native_stack_rows_mark_a_missed_target() -> None:
    rows = table([Measure("start", "29.3 s", "<= 30 s", True), Measure("memory", "1705 MiB", "<= 1536 MiB", False)])
    assert rows.splitlines()[2].endswith("<= 30 s ✓")
    assert rows.splitlines()[3].endswith("<= 1536 MiB ✗")


def test_the_pipeline_prices_an_event_in_cpu_by_service_and_bounds_the_rate_by_the_cores() -> None:
    cpu_s = {"video-command-0": 4.0, "video-query-0": 1.0, "video-query-1": 1.0, "video-query-2": 2.0,
             "kafka": 3.0, "postgres": 2.0, "recommendations-0": 1.0, "notification-0": 0.5, "email-0": 0.25}
    run = PipelineRun(Load(ok=1000, seconds=10.0, latencies_ms=[]), 12.0, 1000, 1000, cpu_s)
    assert run.cpu_ms_per_event() == {"video-command": 4.0, "video-query": 4.0, "kafka": 3.0, "postgres": 2.0,
                                      "recommendations": 1.0, "notification": 0.5, "email": 0.25}
    row = pipeline_rows(run, cores=2)[-1]
    assert (row.value, row.numbers["cpu_ms_per_event"]) == ("14.8 ms", 14.75)
    assert row.absolute == ("video-command 4.0, video-query 4.0, kafka 3.0, postgres 2.0, recommendations 1.0, "
                            "notification 0.5, the rest 0.2; 2 cores give at most 136 events/s at this price")


def _otlp(service: str, spans: list[dict[str, object]]) -> dict[str, object]:
    return {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
            "scopeSpans": [{"spans": spans}]}


def _span(trace: str, span: str, parent: str, name: str, start_us: int, end_us: int) -> dict[str, object]:
    return {"traceId": trace, "spanId": span, "parentSpanId": parent, "name": name,
            "startTimeUnixNano": str(start_us * 1000), "endTimeUnixNano": str(end_us * 1000)}


def test_envoys_own_time_is_its_request_span_minus_its_one_upstream_span() -> None:
    page = "POST /vidmesh.webbff.v1.WebBffService/GetVideoPage"
    upstream = "web-bff /vidmesh.webbff.v1.WebBffService/GetVideoPage"
    document = {"result": {"resourceSpans": [
        _otlp("envoy", [
            # routed once: 14.0 ms in all, 13.3 ms upstream, which began 0.5 ms in
            _span("t1", "r1", "", page, 1_000, 15_000), _span("t1", "u1", "r1", upstream, 1_500, 14_800),
            # retried: two upstream spans, so no single gap to count
            _span("t2", "r2", "", page, 0, 9_000), _span("t2", "u2", "r2", upstream, 100, 3_000),
            _span("t2", "u3", "r2", upstream, 3_100, 8_900),
            # refused at the edge: no upstream at all
            _span("t3", "r3", "", page, 0, 400)]),
        # the BFF's own span under the upstream one is not the gateway's
        _otlp("web-bff", [_span("t1", "b1", "u1", "vidmesh.webbff.v1.WebBffService/GetVideoPage", 2_000, 14_000)]),
    ]}}
    times = own_times(parse(document))
    assert times.own_ms == [pytest.approx(0.7)]
    assert times.before_upstream_ms == [pytest.approx(0.5)]
    assert times.p(50) == pytest.approx(0.7) and math.isnan(own_times([]).p(50))
