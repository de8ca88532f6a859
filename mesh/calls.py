"""Outgoing calls: every call a mesh process makes is a CLIENT span that carries the trace on.

`OutgoingCalls` is a client interceptor that mesh's channels install (mesh/xds/bootstrap.py's
`channel()`): for each unary call it opens a span named after the method, in the trace of the
request being served (so a BFF page's fan-out is one child per call), sends that span's
`traceparent` in the metadata, and records the status the call ended with. The Go side
(gomesh) has the same shape: one interceptor on every client connection.
"""

from __future__ import annotations

from typing import Any

import grpc
import grpc.aio
from opentelemetry.trace import SpanKind, Status, StatusCode

from mesh import tracing

# As on the server (mesh/interceptors.py): the codes that mean the call failed, not the request.
CALL_FAILURES = frozenset({grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED,
                           grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.INTERNAL,
                           grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DATA_LOSS,
                           grpc.StatusCode.CANCELLED})


class OutgoingCalls(grpc.aio.UnaryUnaryClientInterceptor):
    """A CLIENT span per unary call to `peer` (the Consul name of the service called)."""

    def __init__(self, peer: str) -> None:
        self.peer = peer

    async def intercept_unary_unary(self, continuation: Any, details: grpc.aio.ClientCallDetails,
                                    request: Any) -> Any:
        """Run the call inside its span, with the span's trace context in the metadata."""
        method = details.method.decode() if isinstance(details.method, bytes) else str(details.method)
        service, _, name = method.lstrip("/").rpartition("/")
        attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name, "peer.service": self.peer}
        with tracing.tracer().start_as_current_span(method.lstrip("/"), kind=SpanKind.CLIENT, attributes=attributes,
                                                    record_exception=False, set_status_on_exception=False) as span:
            metadata = [*(details.metadata or ()), *tracing.headers().items()]
            traced = grpc.aio.ClientCallDetails(details.method, details.timeout, grpc.aio.Metadata(*metadata),
                                                details.credentials, details.wait_for_ready)
            call = await continuation(traced, request)
            try:
                await call
            except grpc.aio.AioRpcError as error:
                span.set_attribute("rpc.grpc.status_code", error.code().value[0])
                if error.code() in CALL_FAILURES:
                    span.set_status(Status(StatusCode.ERROR, f"{error.code().name}: {error.details()}"))
                raise
            span.set_attribute("rpc.grpc.status_code", grpc.StatusCode.OK.value[0])
            return call
