"""mesh/tracing.py and the spans of mesh's interceptors, against a real in-process grpc.aio
server on 127.0.0.1:0 (the echo service) and the SDK's in-memory exporter."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc
import grpc.aio
import pytest
import pytest_asyncio
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision
from opentelemetry.trace import SpanKind, StatusCode

from mesh import log, tracing
from mesh.calls import OutgoingCalls
from mesh.config import ConfigError
from mesh.interceptors import default_interceptors
from tests.spans import named, parent_id, span_id, trace_id, wait_named
from tests.support_server import EchoRequest, EchoResponse, add_to_server, echo_service

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
ECHO = "meshtest.v1.EchoService/Echo"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def address() -> AsyncIterator[str]:
    server = grpc.aio.server(interceptors=default_interceptors(max_rpc_seconds=5))
    add_to_server(echo_service().servicer, server)  # type: ignore[arg-type]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(None)


async def echo(channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...] = (), **fields: Any) -> Any:
    call = channel.unary_unary(f"/{ECHO}", request_serializer=EchoRequest.SerializeToString,
                               response_deserializer=EchoResponse.FromString)
    return await call(EchoRequest(**fields), timeout=5, metadata=metadata)


def test_the_otlp_exporter_loads_beside_envoys_protos() -> None:
    # xds-protos installs an older copy of OpenTelemetry's protos into the same files as
    # opentelemetry-proto; with that copy on disk this fails, and so would every process's start.
    from envoy.config.trace.v3 import opentelemetry_pb2  # the control plane's side of those files

    exporter = tracing._otlp("http://127.0.0.1:4317")  # builds the exporter, dials nothing yet
    try:
        assert type(exporter).__name__ == "OTLPSpanExporter"
        assert opentelemetry_pb2.OpenTelemetryConfig.DESCRIPTOR.full_name == "envoy.config.trace.v3.OpenTelemetryConfig"
    finally:
        exporter.shutdown()


def test_a_trace_starts_only_at_a_server_or_a_consumer() -> None:
    sampler = tracing.TracesStartAtServers(ALWAYS_ON)

    def decide(kind: SpanKind) -> Decision:
        return sampler.should_sample(None, 1, "x", kind).decision

    assert decide(SpanKind.SERVER) is decide(SpanKind.CONSUMER) is Decision.RECORD_AND_SAMPLE
    # A query, a call or a publish outside any request (health checks, polling) records nothing.
    assert decide(SpanKind.CLIENT) is decide(SpanKind.INTERNAL) is decide(SpanKind.PRODUCER) is Decision.DROP
    inside = tracing.context_from(f"00-{CALLER_TRACE}-{CALLER_SPAN}-01")
    assert sampler.should_sample(inside, 1, "x", SpanKind.CLIENT).decision is Decision.RECORD_AND_SAMPLE


@pytest.mark.parametrize(("variable", "value"), [("VIDMESH_TRACING", "maybe"), ("OTEL_TRACES_SAMPLER", "sometimes"),
                                                 ("OTEL_TRACES_SAMPLER_ARG", "half"),
                                                 ("OTEL_TRACES_SAMPLER_ARG", "1.5")])
def test_a_bad_setting_is_refused_by_name(variable: str, value: str) -> None:
    env = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", variable: value}
    with pytest.raises(ConfigError, match=variable):
        tracing.settings(env)


def test_settings_come_from_the_standard_variables() -> None:
    chosen = tracing.settings({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4317", "VIDMESH_TRACING": "false",
                               "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"})
    assert (chosen.enabled, chosen.endpoint) == (False, "http://jaeger:4317")
    assert "0.25" in chosen.sampler.get_description()


async def test_server_span_continues_the_callers_trace(address: str, spans: InMemorySpanExporter) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        response = await echo(channel, metadata=(("traceparent", f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"),), title="x")
    (span,) = await wait_named(spans, ECHO, 1)
    assert span.kind is SpanKind.SERVER
    assert (f"{trace_id(span):032x}", f"{parent_id(span):016x}") == (CALLER_TRACE, CALLER_SPAN)
    # What the handler sends on names its server span as the parent.
    assert response.traceparent == f"00-{CALLER_TRACE}-{span_id(span):016x}-01"
    assert span.attributes is not None and span.attributes["rpc.grpc.status_code"] == 0


async def test_a_bug_marks_the_span_failed_and_a_bad_request_does_not(address: str,
                                                                     spans: InMemorySpanExporter) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        for fail in ("bug", "not_found"):
            with pytest.raises(grpc.aio.AioRpcError):
                await echo(channel, title="x", fail=fail)
    bug, not_found = await wait_named(spans, ECHO, 2)
    assert bug.status.status_code is StatusCode.ERROR and [e.name for e in bug.events] == ["exception"]
    assert not_found.status.status_code is StatusCode.UNSET and not not_found.events


async def test_a_log_line_names_the_span_it_was_written_in(address: str, spans: InMemorySpanExporter,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    log.configure("meshtest")
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            await echo(channel, title="x")
        log.flush()  # the lines are written in batches
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    finally:
        logging.getLogger().handlers.clear()
    (span,) = await wait_named(spans, ECHO, 1)
    started = next(line for line in lines if line["event"] == "echo started")
    assert (started["trace_id"], started["span_id"]) == (f"{trace_id(span):032x}", f"{span_id(span):016x}")


async def test_an_outgoing_call_is_a_child_of_the_request_and_the_parent_of_the_callee(
        address: str, spans: InMemorySpanExporter) -> None:
    async with grpc.aio.insecure_channel(address, interceptors=[OutgoingCalls("meshtest")]) as channel:
        with tracing.tracer().start_as_current_span("page", kind=SpanKind.SERVER) as page:
            response = await echo(channel, title="x")
    found = await wait_named(spans, ECHO, 2)
    (client,) = [span for span in found if span.kind is SpanKind.CLIENT]
    (server,) = [span for span in found if span.kind is SpanKind.SERVER]
    assert parent_id(client) == page.get_span_context().span_id
    assert parent_id(server) == span_id(client) and trace_id(server) == trace_id(client)
    assert response.trace_id == f"{trace_id(client):032x}"
    assert client.attributes is not None and client.attributes["peer.service"] == "meshtest"


async def test_a_failed_outgoing_call_is_recorded_with_its_code(address: str, spans: InMemorySpanExporter) -> None:
    async with grpc.aio.insecure_channel(address, interceptors=[OutgoingCalls("meshtest")]) as channel:
        with tracing.tracer().start_as_current_span("page", kind=SpanKind.SERVER), \
                pytest.raises(grpc.aio.AioRpcError):
            await echo(channel, title="x", fail="bug")
    (client,) = [span for span in await wait_named(spans, ECHO, 2) if span.kind is SpanKind.CLIENT]
    assert client.status.status_code is StatusCode.ERROR
    assert client.attributes is not None
    assert client.attributes["rpc.grpc.status_code"] == grpc.StatusCode.INTERNAL.value[0]


def test_a_bad_traceparent_starts_a_new_trace(spans: InMemorySpanExporter) -> None:
    for bad in ("", "garbage", f"00-{'0' * 32}-{CALLER_SPAN}-01", f"ff-{CALLER_TRACE}-{CALLER_SPAN}-01"):
        tracing.tracer().start_span("x", context=tracing.context_from(bad), kind=SpanKind.SERVER).end()
    assert [parent_id(span) for span in named(spans, "x")] == [None] * 4
