"""Server interceptors every vidmesh service runs, outermost first:

1. TracingInterceptor: a SERVER span per call, continuing the caller's W3C `traceparent` (or
   starting a trace); what the handler logs and calls happens inside it (mesh/tracing.py).
2. AccessLogInterceptor: logs one line per call with method, code, duration_ms, peer and
   caller (its SPIFFE id, under mutual TLS), and counts it in the process's metrics
   (mesh/metrics.py).
   (mesh/authz.py's AuthorizationInterceptor comes next when the server runs mutual TLS, so a
   refusal is traced, logged and counted like any call.)
3. ErrorInterceptor: domain errors become their status (mesh.errors, the one table); the
   database out of reach (psycopg's OperationalError, the pool's timeout among them) is
   UNAVAILABLE; any other exception is a bug: INTERNAL with a generic message, the details
   only in the log.
4. DeadlineInterceptor: refuses a call whose deadline has already passed and bounds every
   unary call by a server-side cap, so a handler without a client deadline cannot hang.
5. ValidationInterceptor: checks the request against its protovalidate rules and the rules
   every string obeys (no NUL, valid UTF-8: an undecodable request is INVALID_ARGUMENT too).

Health and reflection calls pass untouched: Consul probes every second and would drown the log.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeAlias

import grpc
import grpc.aio
import psycopg
import structlog
from google.protobuf.message import Message
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from psycopg_pool import PoolTimeout

from mesh import log, tracing, validation
from mesh.authz import AuthorizationInterceptor, Authorizer, peer_spiffe_id
from mesh.errors import DomainError, Unavailable, abort, internal_status, to_grpc_status
from mesh.metrics import Metrics

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
Behavior: TypeAlias = "Callable[[Any, Context], Awaitable[Any]]"
_Continuation: TypeAlias = "Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]]"

UNWRAPPED_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
# The codes that mean the server failed (OpenTelemetry's rule for server spans); the others are
# the caller's (a bad request, a missing resource) and leave the span's status unset.
SERVER_FAILURES = frozenset({grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED,
                             grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.INTERNAL,
                             grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DATA_LOSS})
_deadline: ContextVar[float | None] = ContextVar("vidmesh_deadline", default=None)
_log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class CallInfo:
    """What an interceptor knows about the call it wraps."""

    method: str
    streaming: bool


def time_left() -> float | None:
    """Seconds left of the call being served (the client's deadline or the server cap),
    for deadlines on outgoing calls; None outside a call."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


class WrappingInterceptor(grpc.aio.ServerInterceptor):
    """Applies `around` to every unary-request call of the application's services."""

    async def intercept_service(
        self, continuation: _Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        """Look up the handler and wrap it (client-streaming handlers pass untouched)."""
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(UNWRAPPED_PREFIXES):
            return handler
        return _wrap(handler, method, self.around)

    async def around(self, info: CallInfo, call: Behavior, request: Any, context: Context) -> Any:
        """Run `call(request, context)` with this interceptor's behaviour around it."""
        raise NotImplementedError


def _wrap(
    handler: grpc.RpcMethodHandler[Any, Any], method: str, around: Callable[..., Awaitable[Any]]
) -> grpc.RpcMethodHandler[Any, Any]:
    if handler.unary_unary is not None:
        inner, unary = handler.unary_unary, CallInfo(method, streaming=False)

        async def unary_unary(request: Any, context: Context) -> Any:
            return await around(unary, _awaiting(inner), request, context)

        return grpc.unary_unary_rpc_method_handler(
            unary_unary, validation.lenient(handler.request_deserializer), handler.response_serializer
        )
    if handler.unary_stream is not None:
        inner_stream, stream = handler.unary_stream, CallInfo(method, streaming=True)

        # A coroutine that writes through the context is a valid server-streaming handler,
        # which lets one `around` serve both kinds of call.
        async def unary_stream(request: Any, context: Context) -> None:
            await around(stream, _writing(inner_stream), request, context)

        return grpc.unary_stream_rpc_method_handler(
            unary_stream, validation.lenient(handler.request_deserializer), handler.response_serializer
        )
    return handler


def _awaiting(inner: Callable[..., Any]) -> Behavior:
    async def call(request: Any, context: Context) -> Any:
        result = inner(request, context)
        return await result if inspect.isawaitable(result) else result

    return call


def _writing(inner: Callable[..., Any]) -> Behavior:
    async def call(request: Any, context: Context) -> None:
        result = inner(request, context)
        if inspect.isasyncgen(result):
            async for response in result:
                await context.write(response)
        elif inspect.isawaitable(result):
            await result

    return call


def _outcome(context: Context, raised: BaseException | None) -> grpc.StatusCode:
    """The status a call ended with, as the client sees it."""
    if isinstance(raised, asyncio.CancelledError):
        return grpc.StatusCode.CANCELLED
    return context.code() or (grpc.StatusCode.UNKNOWN if raised else grpc.StatusCode.OK)


class TracingInterceptor(WrappingInterceptor):
    """A SERVER span per call, in the caller's trace."""

    async def around(self, info: CallInfo, call: Behavior, request: Any, context: Context) -> Any:
        """Continue the trace of the `traceparent` metadata, run the call in its span, record its code."""
        parent = tracing.incoming({key: value for key, value in context.invocation_metadata() or ()
                                   if isinstance(value, str)})
        service, _, method = info.method.lstrip("/").rpartition("/")
        attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}
        with tracing.tracer().start_as_current_span(info.method.lstrip("/"), context=parent, kind=SpanKind.SERVER,
                                                    attributes=attributes, record_exception=False,
                                                    set_status_on_exception=False) as span:
            raised: BaseException | None = None
            try:
                return await call(request, context)
            except BaseException as error:
                raised = error
                raise
            finally:
                code = _outcome(context, raised)
                span.set_attribute("rpc.grpc.status_code", code.value[0])
                if code in SERVER_FAILURES:
                    span.set_status(Status(StatusCode.ERROR, code.name))


class AccessLogInterceptor(WrappingInterceptor):
    """One log line per call, inside the call's span, and the call counted in the metrics."""

    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics

    async def around(self, info: CallInfo, call: Behavior, request: Any, context: Context) -> Any:
        """Run the call, then log and count its outcome."""
        # Who called, read now: once a client has gone, grpc frees the call and reading the
        # context's peer dereferences freed memory (SIGSEGV, seen in the control plane).
        peer, caller = context.peer(), peer_spiffe_id(context)
        started = time.perf_counter()
        raised: BaseException | None = None
        try:
            return await call(request, context)
        except BaseException as error:
            raised = error
            raise
        finally:
            code, seconds = _outcome(context, raised), time.perf_counter() - started
            _log_call(info, code, seconds * 1000, peer, caller)
            if self.metrics is not None:
                self.metrics.observe_rpc(info.method, info.streaming, _pascal(code), seconds)


def _pascal(code: grpc.StatusCode) -> str:
    """`NOT_FOUND` -> `NotFound`: the code's name in grpc-go, which the Prometheus middleware uses."""
    go_names = {grpc.StatusCode.OK: "OK", grpc.StatusCode.CANCELLED: "Canceled"}
    return go_names.get(code) or "".join(word.capitalize() for word in code.name.split("_"))


def _log_call(info: CallInfo, code: grpc.StatusCode, duration_ms: float, peer: str, caller: str | None) -> None:
    bug = code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS)
    emit = _log.error if bug else _log.info
    emit("rpc", method=info.method, code=code.name, duration_ms=round(duration_ms, 2), peer=peer, caller=caller)


class ErrorInterceptor(WrappingInterceptor):
    """Domain errors to statuses; bugs to a generic INTERNAL."""

    async def around(self, info: CallInfo, call: Behavior, request: Any, context: Context) -> Any:
        """Run the call and turn what it raises into the status the client should see."""
        try:
            return await call(request, context)
        except grpc.aio.AbortError:
            raise  # the handler (or an inner interceptor) chose its status already
        except DomainError as error:
            status = to_grpc_status(error)
            await abort(context, status.code, status.details, status.trailing_metadata)
        except psycopg.OperationalError as error:
            # The database's state, not a bug: no connection free in time (PoolTimeout), one
            # lost, a statement cancelled by its timeout. The client may retry (commands are
            # idempotent), so UNAVAILABLE, the status clients and Envoy retry, not INTERNAL.
            trace.get_current_span().record_exception(error)
            _log.warning("database unavailable", method=info.method, error=repr(error))
            status = to_grpc_status(Unavailable(_unavailable_message(error)))
            await abort(context, status.code, status.details, status.trailing_metadata)
        except Exception as error:
            trace.get_current_span().record_exception(error)
            _log.exception("unhandled error", method=info.method)
            status = internal_status(log.current_trace_id())
            await abort(context, status.code, status.details, status.trailing_metadata)


def _unavailable_message(error: psycopg.OperationalError) -> str:
    if isinstance(error, PoolTimeout):
        return "the service is overloaded: no database connection was free in time; retry shortly"
    return "the service's database is unavailable; retry shortly"


class DeadlineInterceptor(WrappingInterceptor):
    """Refuse calls that are already late; bound unary calls by `max_seconds`."""

    def __init__(self, max_seconds: float) -> None:
        self.max_seconds = max_seconds

    async def around(self, info: CallInfo, call: Behavior, request: Any, context: Context) -> Any:
        """Abort with DEADLINE_EXCEEDED when the deadline is gone or the cap runs out."""
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            await abort(context, grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded before the call started")
        # Server streams may legitimately run long (watches); they keep the client's deadline.
        budget = remaining if info.streaming else min(remaining or self.max_seconds, self.max_seconds)
        token = _deadline.set(None if budget is None else time.monotonic() + budget)
        scope = asyncio.timeout(None if info.streaming else budget)
        try:
            async with scope:
                return await call(request, context)
        except TimeoutError:
            if not scope.expired():
                raise
            await abort(context, grpc.StatusCode.DEADLINE_EXCEEDED, f"no answer within {budget:.3g} s")
        finally:
            _deadline.reset(token)


class ValidationInterceptor(WrappingInterceptor):
    """Reject requests that break their protovalidate rules, naming the fields."""

    async def around(self, info: CallInfo, call: Behavior, request: Any, context: Context) -> Any:
        """Validate, then run the call; InvalidArgument reaches ErrorInterceptor."""
        if isinstance(request, Message | validation.Undecodable):
            validation.validate(request)
        return await call(request, context)


def default_interceptors(max_rpc_seconds: float = 30.0, metrics: Metrics | None = None,
                         authorizer: Authorizer | None = None) -> list[grpc.aio.ServerInterceptor]:
    """The chain every service runs, in order (the first wraps all the others); with an
    `authorizer` (mutual TLS), every call is admitted by it right inside the access log."""
    authorization = [AuthorizationInterceptor(authorizer)] if authorizer is not None else []
    return [
        TracingInterceptor(),
        AccessLogInterceptor(metrics),
        *authorization,
        ErrorInterceptor(),
        DeadlineInterceptor(max_rpc_seconds),
        ValidationInterceptor(),
    ]
