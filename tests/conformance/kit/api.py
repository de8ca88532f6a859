"""A service's API as server reflection describes it, and calls to any of its methods.

Nothing here comes from the service's code: the services, their messages and their
protovalidate rules are read from the instance over `grpc.reflection`, and requests are
built from the topology's proto3 JSON, so an instance in any language is called the same way.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import grpc
import grpc.aio
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import Descriptor, MethodDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from mesh.xds.bootstrap import blocking_channel_to

HEALTH = "grpc.health.v1.Health"
REFLECTION_PREFIX = "grpc.reflection."
STATUS_DETAILS_KEY = "grpc-status-details-bin"
REFLECTION_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Outcome:
    """How one call ended, as the client saw it."""

    code: grpc.StatusCode
    details: str
    response: Message | None
    status: status_pb2.Status | None  # the google.rpc.Status of the trailer, if any
    seconds: float

    @property
    def response_json(self) -> str:
        """The answer in proto3 JSON (empty when the call failed)."""
        return json_format.MessageToJson(self.response, sort_keys=True) if self.response is not None else ""

    def field_violations(self) -> list[str] | None:
        """The fields a google.rpc.BadRequest in the status names; None when there is none."""
        if self.status is None:
            return None
        for detail in self.status.details:
            bad = error_details_pb2.BadRequest()
            if detail.Unpack(bad):
                return [violation.field for violation in bad.field_violations]
        return None

    def __str__(self) -> str:
        answer = self.response_json.replace("\n", "") if self.code == grpc.StatusCode.OK else repr(self.details)
        return f"{self.code.name} after {self.seconds * 1000:.0f} ms: {answer}"


@dataclass
class Api:
    """What one instance serves: its own services and every message they use."""

    services: list[str]  # every service reflection lists, health and reflection included
    database: ProtoReflectionDescriptorDatabase
    pool: descriptor_pool.DescriptorPool = field(init=False)

    def __post_init__(self) -> None:
        self.pool = descriptor_pool.DescriptorPool(self.database)

    @classmethod
    async def reflect(cls, address: str, identity: str) -> Api:
        """List the instance's services and load their descriptors by reflection (over mutual
        TLS, expecting the certificate of `identity`)."""
        return await asyncio.wait_for(asyncio.to_thread(cls._reflect, address, identity), REFLECTION_TIMEOUT_S)

    @classmethod
    def _reflect(cls, address: str, identity: str) -> Api:
        channel = blocking_channel_to(identity, address)  # kept open: the database asks lazily
        database = ProtoReflectionDescriptorDatabase(channel)
        api = cls(sorted(database.get_services()), database)
        for name in api.own_services:
            api.pool.FindServiceByName(name)  # loads its file and every import now
        return api

    @property
    def own_services(self) -> list[str]:
        """The services of its API: everything listed but health and reflection."""
        return [name for name in self.services if name != HEALTH and not name.startswith(REFLECTION_PREFIX)]

    def method(self, full_name: str) -> MethodDescriptor:
        """`package.Service/Method` (a leading slash is allowed)."""
        service, _, method = full_name.lstrip("/").partition("/")
        return self.pool.FindServiceByName(service).methods_by_name[method]

    def methods(self) -> list[MethodDescriptor]:
        """Every unary method of its own services, in declaration order."""
        found = []
        for name in self.own_services:
            for method in self.pool.FindServiceByName(name).methods:
                if not method.client_streaming and not method.server_streaming:
                    found.append(method)
        return found

    def message(self, descriptor: Descriptor, json_text: str = "{}") -> Message:
        """A message of this API from proto3 JSON."""
        message = message_factory.GetMessageClass(descriptor)()
        json_format.Parse(json_text, message, descriptor_pool=self.pool)
        return message

    def request(self, method: str, json_text: str) -> Message:
        """The request of `method` from proto3 JSON."""
        return self.message(self.method(method).input_type, json_text)

    def file_of(self, descriptor: Descriptor) -> descriptor_pb2.FileDescriptorProto:
        """The FileDescriptorProto that declares a message, options (and their rules) included."""
        return self.database.FindFileContainingSymbol(descriptor.full_name)


async def call(channel: grpc.aio.Channel, method: MethodDescriptor, request: Message | bytes, *, timeout: float,
               metadata: tuple[tuple[str, str], ...] = ()) -> Outcome:
    """One unary call; never raises for a status, it returns it. A request given as bytes is
    sent as they are (bytes no message of the kit's protobuf runtime could hold)."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    response_class = message_factory.GetMessageClass(method.output_type)
    stub: grpc.aio.UnaryUnaryMultiCallable[Message | bytes, Message] = channel.unary_unary(
        path, request_serializer=lambda m: m if isinstance(m, bytes) else m.SerializeToString(),
        response_deserializer=response_class.FromString)
    started = time.perf_counter()
    try:
        response = await stub(request, timeout=timeout, metadata=metadata)
        return Outcome(grpc.StatusCode.OK, "", response, None, time.perf_counter() - started)
    except grpc.aio.AioRpcError as error:
        seconds = time.perf_counter() - started
        return Outcome(error.code(), error.details() or "", None, _status(error), seconds)


def _status(error: grpc.aio.AioRpcError) -> status_pb2.Status | None:
    for key, value in error.trailing_metadata() or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            return status_pb2.Status.FromString(value)
    return None
