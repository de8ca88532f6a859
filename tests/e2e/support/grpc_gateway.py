"""gRPC and gRPC-web through the gateway, as grpcurl and a browser would send them: h2c to
Envoy's listener (gRPC-web over HTTP/1.1), with the messages generated from the same
descriptors Envoy routes by."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import grpc
import httpx
from google.protobuf import descriptor, json_format, message, message_factory
from vidmesh.mobilebff.v1 import mobile_bff_service_pb2 as mobile
from vidmesh.mobilebff.v1 import mobile_bff_service_pb2_grpc as mobile_grpc

from mesh.settings import Settings

DEADLINE_S = 10.0
Metadata = list[tuple[str, str]]


@dataclass(frozen=True)
class Outcome:
    """What a call got: its gRPC status name ("OK", "UNAUTHENTICATED", ...), the status
    message, and the answer as proto3 JSON when it succeeded."""

    status: str
    message: str
    answer: dict[str, Any] | None


def path(method: descriptor.MethodDescriptor) -> str:
    """The HTTP/2 path of an RPC: /package.Service/Method."""
    return f"/{method.containing_service.full_name}/{method.name}"


def _answer(method: descriptor.MethodDescriptor, data: bytes) -> dict[str, Any]:
    reply = message_factory.GetMessageClass(method.output_type).FromString(data)
    return json_format.MessageToDict(reply)


class GatewayGrpc:
    """A channel to the gateway's listener: any RPC by its descriptor, and the mobile
    BFF's GetVideo (which reads video-query inside the mesh)."""

    def __init__(self, settings: Settings) -> None:
        self.channel = grpc.insecure_channel(f"{settings.host}:{settings.envoy_port}")
        self.mobile = mobile_grpc.MobileBffServiceStub(self.channel)

    def get_video(self, video_id: str) -> mobile.GetVideoResponse:
        """MobileBffService/GetVideo through the gateway."""
        answer: mobile.GetVideoResponse = self.mobile.GetVideo(mobile.GetVideoRequest(video_id=video_id),
                                                               timeout=DEADLINE_S)
        return answer

    def call(self, method: descriptor.MethodDescriptor, request: message.Message,
             metadata: Metadata | None = None, timeout: float = DEADLINE_S) -> Outcome:
        """One unary call; a status other than OK is an Outcome too, not an exception."""
        stub: grpc.UnaryUnaryMultiCallable[message.Message, bytes] = self.channel.unary_unary(
            path(method), request_serializer=lambda m: m.SerializeToString(), response_deserializer=lambda d: d)
        try:
            data = stub(request, metadata=tuple(metadata or ()), timeout=timeout)
        except grpc.RpcError as error:
            return Outcome(error.code().name, error.details() or "", None)
        return Outcome("OK", "", _answer(method, data))

    def close(self) -> None:
        """Close the channel."""
        self.channel.close()


def grpc_web_call(http: httpx.Client, method: descriptor.MethodDescriptor, request: message.Message,
                  metadata: Metadata | None = None) -> Outcome:
    """One unary gRPC-web call (binary framing over HTTP/1.1), as a browser makes it."""
    payload = request.SerializeToString()
    headers = {"content-type": "application/grpc-web+proto", "x-grpc-web": "1", **dict(metadata or [])}
    response = http.post(path(method), content=b"\x00" + struct.pack(">I", len(payload)) + payload,
                         headers=headers)
    frames = _frames(response.content)
    trailers = {**response.headers, **_trailers(frames.get(0x80, b""))}  # trailers-only replies use headers
    assert "grpc-status" in trailers, f"gRPC-web {path(method)}: no grpc-status: {response.status_code} {response.text}"
    status = int(trailers["grpc-status"])
    name = next(code.name for code in grpc.StatusCode if code.value[0] == status)
    data = frames.get(0x00)
    return Outcome(name, unquote(trailers.get("grpc-message", "")),
                   _answer(method, data) if name == "OK" and data is not None else None)


def _frames(body: bytes) -> dict[int, bytes]:
    """flag -> payload of each gRPC-web frame (one data frame and one trailer frame at most)."""
    frames, at = {}, 0
    while at + 5 <= len(body):
        flag, size = body[at], struct.unpack(">I", body[at + 1:at + 5])[0]
        frames[flag] = body[at + 5:at + 5 + size]
        at += 5 + size
    return frames


def _trailers(block: bytes) -> dict[str, str]:
    lines = [line.split(":", 1) for line in block.decode().split("\r\n") if ":" in line]
    return {name.strip().lower(): value.strip() for name, value in lines}
