"""A tiny service for testing mesh/ on its own: `meshtest.v1.EchoService`.

Its proto is built here at import time (with protovalidate rules) rather than living under
protos/, so the mesh tests do not depend on any vidmesh contract. `python -m
tests.support_server` runs it under the mesh runtime like a real service; with
MESHTEST_READY_FILE set, its readiness check passes only while that file exists.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import structlog
from buf.validate import validate_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

from mesh import errors, interceptors, runtime, topology
from mesh import log as mesh_log
from mesh.runtime import Runtime
from mesh.server import Service

PACKAGE = "meshtest.v1"
ENTRY = topology.Service(name="meshtest", command=topology.python("tests.support_server"))
SERVICE_NAME = f"{PACKAGE}.EchoService"
_FIELD = descriptor_pb2.FieldDescriptorProto
_log = structlog.get_logger(__name__)


def _field(message: descriptor_pb2.DescriptorProto, name: str, number: int, kind: int, repeated: bool = False) -> Any:
    label = _FIELD.LABEL_REPEATED if repeated else _FIELD.LABEL_OPTIONAL
    field = message.field.add(name=name, number=number, type=kind, label=label)
    return field.options.Extensions[validate_pb2.field]


def _file() -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto(
        name="meshtest/v1/echo.proto", package=PACKAGE, syntax="proto3", dependency=["buf/validate/validate.proto"]
    )
    request = proto.message_type.add(name="EchoRequest")
    _field(request, "title", 1, _FIELD.TYPE_STRING).string.min_len = 1
    _field(request, "tags", 2, _FIELD.TYPE_STRING, repeated=True).repeated.items.string.min_len = 2
    sleep = _field(request, "sleep_seconds", 3, _FIELD.TYPE_DOUBLE).double
    sleep.gte, sleep.lte = 0, 10
    _field(request, "fail", 4, _FIELD.TYPE_STRING)  # "", "not_found", "conflict", "bug"
    response = proto.message_type.add(name="EchoResponse")
    for number, name in enumerate(("title", "trace_id", "traceparent"), start=1):
        _field(response, name, number, _FIELD.TYPE_STRING)
    _field(response, "time_left", 4, _FIELD.TYPE_DOUBLE)
    service = proto.service.add(name="EchoService")
    service.method.add(name="Echo", input_type=f".{PACKAGE}.EchoRequest", output_type=f".{PACKAGE}.EchoResponse")
    service.method.add(
        name="EchoStream",
        input_type=f".{PACKAGE}.EchoRequest",
        output_type=f".{PACKAGE}.EchoResponse",
        server_streaming=True,
    )
    return proto


def _load() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.Default()
    try:
        pool.FindFileByName("meshtest/v1/echo.proto")
    except KeyError:
        pool.Add(_file())
    return pool


_pool = _load()
DESCRIPTOR = _pool.FindServiceByName(SERVICE_NAME)
EchoRequest: type[Message] = message_factory.GetMessageClass(_pool.FindMessageTypeByName(f"{PACKAGE}.EchoRequest"))
EchoResponse: type[Message] = message_factory.GetMessageClass(_pool.FindMessageTypeByName(f"{PACKAGE}.EchoResponse"))

FAILURES: dict[str, Exception] = {
    "not_found": errors.NotFound("no such echo"),
    "conflict": errors.Conflict("echo changed meanwhile"),
    "bug": RuntimeError("password=hunter2 leaked in a bug"),
}


class EchoServicer:
    """Echoes the title back, after sleeping and failing as the request asks."""

    async def Echo(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        _log.info("echo started", title=request.title, sleep_seconds=request.sleep_seconds)
        await asyncio.sleep(request.sleep_seconds)
        if request.fail in FAILURES:
            raise FAILURES[request.fail]
        return EchoResponse(
            title=request.title,
            trace_id=mesh_log.current_trace_id() or "",
            traceparent=mesh_log.current_traceparent() or "",
            time_left=interceptors.time_left() or 0.0,
        )

    async def EchoStream(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        for number in range(3):
            if request.fail in FAILURES and number == 1:
                raise FAILURES[request.fail]
            yield EchoResponse(title=f"{request.title} {number}", trace_id=mesh_log.current_trace_id() or "")


def add_to_server(servicer: EchoServicer, server: grpc.aio.Server) -> None:
    """What generated `add_*Servicer_to_server` functions do, for the hand-made proto."""
    serialize, parse = EchoResponse.SerializeToString, EchoRequest.FromString
    handlers = {
        "Echo": grpc.unary_unary_rpc_method_handler(servicer.Echo, parse, serialize),
        "EchoStream": grpc.unary_stream_rpc_method_handler(servicer.EchoStream, parse, serialize),
    }
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE_NAME, handlers)])


def echo_service() -> Service:
    """The echo service, ready for `mesh.server.Server`."""
    return Service(DESCRIPTOR, EchoServicer(), add_to_server)


async def ready_file_check() -> bool:
    """A dependency check: ready while MESHTEST_READY_FILE exists (always, when unset)."""
    path = os.environ.get("MESHTEST_READY_FILE")
    return path is None or Path(path).exists()


async def bootstrap(rt: Runtime) -> None:
    """The echo service and its readiness check, composed like any vidmesh service."""
    rt.check(ready_file_check)
    rt.serve(echo_service())


if __name__ == "__main__":
    runtime.main(ENTRY, bootstrap)
