"""Every call the breaker serves goes through `handler()`: the caller's trace, protovalidate,
the method itself, one access-log line (MESH.md §6, §7, §11)."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import grpc
import grpc.aio
import protovalidate
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

from tests.conformance.breaker.identity import Authorizer
from tests.conformance.breaker.metrics import Metrics
from tests.conformance.breaker.settings import Settings
from tests.conformance.breaker.strings import Undecodable, with_nul

Context = grpc.aio.ServicerContext[Any, Any]
Method = Callable[[Any, Context], Awaitable[Message]]
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_validator = protovalidate.Validator()

def log(settings: Settings, event: str, **fields: object) -> None:
    """One JSON line on stdout."""
    line = {"timestamp": datetime.now(UTC).isoformat(), "level": "info", "service": settings.name,
            "event": event, "trace_id": None, **fields}
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()

def status(code: grpc.StatusCode, message: str, *fields: str) -> tuple[grpc.StatusCode, str, tuple[Any, ...]]:
    """What to abort with: the code, its message, and the google.rpc.Status trailer."""
    rich = status_pb2.Status(code=code.value[0], message=message)
    if fields:
        bad = error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=name, description=message) for name in fields])
        rich.details.add().Pack(bad)
    return code, message, (("grpc-status-details-bin", rich.SerializeToString()),)

def handler(settings: Settings, authorizer: Authorizer, metrics: Metrics, name: str, method: Method | None) -> Method:
    """`method` (UNIMPLEMENTED when None) wrapped in trace, the caller's authorization,
    validation, the access log and the RPC metrics."""
    async def serve(request: Any, context: Context) -> Message:
        incoming = dict(context.invocation_metadata() or ()).get("traceparent")
        match = TRACEPARENT.match(str(incoming or ""))
        trace_id = match.group(1) if match and not settings.breaking("new-trace-id") else secrets.token_hex(16)
        started, code = time.perf_counter(), grpc.StatusCode.OK
        try:
            await authorizer.check(context)
            await _validate(settings, request, context)
            if method is None:
                await context.abort(*status(grpc.StatusCode.UNIMPLEMENTED, f"{name} is not implemented here"))
            assert method is not None
            return await method(request, context)
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED
            raise
        except BaseException:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        finally:
            seconds = time.perf_counter() - started
            log(settings, "rpc", method=name, code=code.name, trace_id=trace_id, duration_ms=round(seconds * 1000, 2))
            metrics.observe(name, code, seconds)
    return serve

async def _validate(settings: Settings, request: Message | Undecodable, context: Context) -> None:
    if isinstance(request, Undecodable):
        await context.abort(*status(grpc.StatusCode.INVALID_ARGUMENT, "must be valid UTF-8", request.field))
    assert isinstance(request, Message)
    if nul := with_nul(request):
        if settings.breaking("nul-is-internal"):  # what a database that cannot store a NUL makes of it
            await context.abort(*status(grpc.StatusCode.INTERNAL, "PostgreSQL text fields cannot contain NUL"))
        await context.abort(*status(grpc.StatusCode.INVALID_ARGUMENT, "must not contain the NUL character", *nul))
    violations = _validator.collect_violations(request)
    if not violations:
        return
    fields = [".".join(e.field_name for e in v.proto.field.elements) if v.proto.field else "" for v in violations]
    if settings.breaking("internal-on-bad-request"):
        await context.abort(*status(grpc.StatusCode.INTERNAL, "something broke"))
    if settings.breaking("no-bad-request"):
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad request")
    await context.abort(*status(grpc.StatusCode.INVALID_ARGUMENT, "the request breaks a rule", *fields))
