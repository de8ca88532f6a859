"""mesh.interceptors against a real in-process grpc.aio server on 127.0.0.1:0.

The echo service (tests/support_server.py) has protovalidate rules and fails on request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, NoReturn, cast

import grpc
import grpc.aio
import pytest
import pytest_asyncio
from google.rpc import error_details_pb2, status_pb2
from grpc._cython import cygrpc  # type: ignore[attr-defined]  # what grpc raises then: ExecuteBatchError
from structlog.testing import capture_logs

from mesh.interceptors import CallInfo, Context, DeadlineInterceptor, ErrorInterceptor, default_interceptors
from tests.support_server import SERVICE_NAME, EchoRequest, EchoResponse, add_to_server, echo_service

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SERVER_CAP_SECONDS = 0.5


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    server = grpc.aio.server(interceptors=default_interceptors(max_rpc_seconds=SERVER_CAP_SECONDS))
    service = echo_service()
    add_to_server(service.servicer, server)  # type: ignore[arg-type]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel
    await server.stop(None)


async def echo(channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...] = (), **fields: Any) -> Any:
    call = channel.unary_unary(
        "/meshtest.v1.EchoService/Echo",
        request_serializer=EchoRequest.SerializeToString,
        response_deserializer=EchoResponse.FromString,
    )
    return await call(EchoRequest(**fields), timeout=5, metadata=metadata)


async def echo_stream(channel: grpc.aio.Channel, **fields: Any) -> list[Any]:
    call = channel.unary_stream(
        "/meshtest.v1.EchoService/EchoStream",
        request_serializer=EchoRequest.SerializeToString,
        response_deserializer=EchoResponse.FromString,
    )
    return [response async for response in call(EchoRequest(**fields), timeout=5)]


def rich_status(error: grpc.aio.AioRpcError) -> status_pb2.Status:
    details = dict(error.trailing_metadata() or ())["grpc-status-details-bin"]
    return status_pb2.Status.FromString(details)


async def test_valid_request_is_answered(channel: grpc.aio.Channel) -> None:
    response = await echo(channel, title="hello", tags=["ok"])
    assert response.title == "hello"


async def test_invalid_request_names_each_offending_field(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await echo(channel, title="", tags=["ok", "x"])
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad_request = error_details_pb2.BadRequest()
    assert rich_status(caught.value).details[0].Unpack(bad_request)
    assert [v.field for v in bad_request.field_violations] == ["title", "tags[1]"]
    assert "at least 2 characters" in bad_request.field_violations[1].description


async def test_invalid_request_to_a_stream_is_refused_before_any_message(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await echo_stream(channel, title="")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    ("fail", "code", "message"),
    [("not_found", grpc.StatusCode.NOT_FOUND, "no such echo"), ("conflict", grpc.StatusCode.ABORTED, "echo changed")],
)
async def test_domain_error_becomes_its_status(
    channel: grpc.aio.Channel, fail: str, code: grpc.StatusCode, message: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await echo(channel, title="x", fail=fail)
    assert caught.value.code() == code
    assert message in (caught.value.details() or "")


async def test_domain_error_mid_stream_ends_it_with_its_status(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await echo_stream(channel, title="x", fail="not_found")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_stream_sends_every_message(channel: grpc.aio.Channel) -> None:
    responses = await echo_stream(channel, title="x")
    assert [r.title for r in responses] == ["x 0", "x 1", "x 2"]


async def test_unexpected_exception_is_internal_and_does_not_leak(channel: grpc.aio.Channel) -> None:
    with capture_logs() as logs, pytest.raises(grpc.aio.AioRpcError) as caught:
        await echo(channel, title="x", fail="bug")
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    details = caught.value.details() or ""
    assert details.startswith("internal error")
    assert "hunter2" not in details
    assert "hunter2" not in str(caught.value.trailing_metadata())
    assert any(entry["event"] == "unhandled error" and entry.get("exc_info") for entry in logs)


async def test_handler_slower_than_the_server_cap_gets_deadline_exceeded(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await echo(channel, title="x", sleep_seconds=3)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_handler_sees_the_time_left_for_outgoing_calls(channel: grpc.aio.Channel) -> None:
    response = await echo(channel, title="x")
    assert 0 < response.time_left <= SERVER_CAP_SECONDS


async def test_callers_trace_is_continued(channel: grpc.aio.Channel) -> None:
    incoming = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"
    response = await echo(channel, metadata=(("traceparent", incoming),), title="x")
    assert response.trace_id == CALLER_TRACE
    assert response.traceparent.startswith(f"00-{CALLER_TRACE}-")
    assert response.traceparent != incoming  # our own span is the parent of what we call


async def test_call_without_trace_starts_a_new_one(channel: grpc.aio.Channel) -> None:
    first = await echo(channel, title="x")
    second = await echo(channel, metadata=(("traceparent", "garbage"),), title="x")
    assert len(first.trace_id) == 32 and len(second.trace_id) == 32
    assert first.trace_id != second.trace_id


async def test_every_call_is_logged_with_method_code_and_duration(channel: grpc.aio.Channel) -> None:
    with capture_logs() as logs:
        await echo(channel, title="x")
        with pytest.raises(grpc.aio.AioRpcError):
            await echo(channel, title="x", fail="not_found")
        # The server writes its log line after the client already has the answer.
        deadline = time.monotonic() + 2
        while sum(entry["event"] == "rpc" for entry in logs) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)  # polling interval of a bounded wait
    calls = [entry for entry in logs if entry["event"] == "rpc"]
    assert [(c["method"], c["code"]) for c in calls] == [
        ("/meshtest.v1.EchoService/Echo", "OK"),
        ("/meshtest.v1.EchoService/Echo", "NOT_FOUND"),
    ]
    assert all(c["duration_ms"] >= 0 and c["peer"].startswith("ipv4:127.0.0.1") for c in calls)


class Aborted(Exception):
    pass


class LateContext:
    """A servicer context whose client deadline passed before the handler ran."""

    def time_remaining(self) -> float:
        return -0.01

    async def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()) -> NoReturn:
        raise Aborted(code, details)


async def test_call_already_past_its_deadline_is_refused_without_running() -> None:
    ran = []

    async def handler(request: Any, context: Any) -> None:
        ran.append(request)

    with pytest.raises(Aborted) as caught:
        await DeadlineInterceptor(30).around(
            CallInfo("/x.S/M", streaming=False), handler, "req", cast(Context, LateContext())
        )
    assert caught.value.args[0] == grpc.StatusCode.DEADLINE_EXCEEDED
    assert ran == []


class EndedContext:
    """A servicer context whose call grpc core has ended already (the client's deadline passed
    as the server's ran out): sending a status fails, as grpc's own context does then."""

    def time_remaining(self) -> None:
        return None

    async def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()) -> NoReturn:
        raise cygrpc.ExecuteBatchError('Failed "execute_batch"')


async def test_a_timeout_whose_status_cannot_be_sent_anymore_ends_the_call_quietly() -> None:
    async def slow(request: Any, context: Any) -> None:
        await asyncio.sleep(5)

    async def chain(request: Any, context: Context) -> Any:
        return await DeadlineInterceptor(0.01).around(CallInfo("/x.S/M", streaming=False), slow, request, context)

    with capture_logs() as logs, pytest.raises(asyncio.CancelledError):
        await ErrorInterceptor().around(CallInfo("/x.S/M", streaming=False), chain, "req",
                                        cast(Context, EndedContext()))
    assert [entry for entry in logs if entry["log_level"] == "error"] == []


async def test_a_nul_in_any_string_is_invalid_argument_naming_the_field(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await echo(channel, title="a\0b", tags=["ok", "c\0d"])
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = {v.field for v in _bad_request(raised.value).field_violations}
    assert fields == {"title", "tags[1]"}


async def test_a_request_that_is_not_utf8_is_invalid_argument_not_unknown(channel: grpc.aio.Channel) -> None:
    # Field 1 (title), length 3, the bytes of a lone surrogate: what a %ED%A0%80 query
    # parameter becomes through the gateway; protobuf refuses to decode it.
    method = channel.unary_unary(f"/{SERVICE_NAME}/Echo", request_serializer=lambda raw: raw,
                                 response_deserializer=EchoResponse.FromString)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await method(b"\x0a\x03\xed\xa0\x80", timeout=5)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
    assert [v.field for v in _bad_request(raised.value).field_violations] == ["title"]


def _bad_request(error: grpc.aio.AioRpcError) -> error_details_pb2.BadRequest:
    found = error_details_pb2.BadRequest()
    assert rich_status(error).details[0].Unpack(found)
    return found
