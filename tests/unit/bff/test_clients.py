"""The gRPC side of the ports: every call carries its timeout, and a failed call becomes a
DownstreamError that keeps the rich status. (The trace is the channel's: tests/unit/test_calls.py.)"""

from __future__ import annotations

from typing import Any

import grpc
import grpc.aio
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from bff.common.clients import STATUS_DETAILS_KEY, call
from bff.common.failures import DownstreamError


class Recording:
    """Stands in for a generated multicallable: records how it was called."""

    def __init__(self, error: grpc.aio.AioRpcError | None = None) -> None:
        self.error, self.kwargs = error, dict[str, Any]()

    async def __call__(self, request: str, **kwargs: Any) -> str:
        self.kwargs = kwargs
        if self.error is not None:
            raise self.error
        return f"answer to {request}"


def rpc_error(code: grpc.StatusCode, details: str, rich: status_pb2.Status | None = None) -> grpc.aio.AioRpcError:
    trailing = grpc.aio.Metadata((STATUS_DETAILS_KEY, rich.SerializeToString())) if rich else grpc.aio.Metadata()
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing, details)


async def test_call_passes_its_timeout() -> None:
    method = Recording()
    assert await call("users", method, "hello", 0.7) == "answer to hello"  # type: ignore[arg-type]
    assert method.kwargs == {"timeout": 0.7}


async def test_failed_call_keeps_code_message_and_bad_request() -> None:
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.BadRequest(field_violations=[
        error_details_pb2.BadRequest.FieldViolation(field="channel_id", description="is your own")]))
    rich = status_pb2.Status(code=3, message="channel_id: is your own", details=[detail])
    method = Recording(rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "channel_id: is your own", rich))
    with pytest.raises(DownstreamError) as raised:
        await call("users", method, "follow", 1.0)  # type: ignore[arg-type]
    error = raised.value
    assert (error.service, error.code, error.message) == ("users", grpc.StatusCode.INVALID_ARGUMENT,
                                                          "channel_id: is your own")
    assert error.status == rich


async def test_failed_call_without_rich_status() -> None:
    method = Recording(rpc_error(grpc.StatusCode.UNAVAILABLE, "no healthy upstream"))
    with pytest.raises(DownstreamError) as raised:
        await call("video-query", method, "get", 1.0)  # type: ignore[arg-type]
    assert (raised.value.code, raised.value.status) == (grpc.StatusCode.UNAVAILABLE, None)
