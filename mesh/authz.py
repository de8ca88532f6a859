"""Authorization of every call a server takes: the caller's SPIFFE id against the intentions.

The TLS handshake already proved that the caller holds a certificate from the CA; this decides
whether that identity may call this service (mesh/intentions.py). It fails closed:
- a caller without a SPIFFE id, or of another trust domain: PERMISSION_DENIED;
- no intention allows it: PERMISSION_DENIED naming the caller and why;
- the intentions are not known yet: UNAVAILABLE, so the client retries (the instance says
  NOT_SERVING meanwhile, so routers do not send it calls).
Every refusal is logged with the caller, the method and the reason; an allowed call's access
log line names its caller.

grpc's aio interceptors see the method but not the peer, so the interceptor wraps the handler
and decides inside it, from the call's `auth_context()`. It wraps every method, streaming ones
and reflection included; plaintext health has a port of its own (mesh/server.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import grpc
import grpc.aio
import structlog

from mesh.errors import PermissionDenied, Unavailable, abort, to_grpc_status
from mesh.intentions import Decision, Intentions, Undecided
from mesh.spiffe import NotAServiceId, SpiffeId

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
_Continuation: TypeAlias = "Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]]"
log = structlog.get_logger(__name__)


def peer_spiffe_id(context: Context) -> str | None:
    """The SPIFFE id of the client certificate of the call being served (None in plaintext)."""
    ids = list(context.auth_context().get("peer_spiffe_id") or ())
    return ids[0].decode() if ids else None


@dataclass(frozen=True)
class Caller:
    """Who is calling, as the TLS handshake proved it."""

    uri: str | None  # the SPIFFE id of the client certificate, when it has one

    @classmethod
    def of(cls, context: Context) -> Caller:
        """The caller of the call being served."""
        return cls(peer_spiffe_id(context))

    def describe(self) -> str:
        """The caller as the logs and the error message name it."""
        return self.uri or "a caller without a SPIFFE id"


class Authorizer:
    """Decides calls to `intentions.destination` by callers of this mesh's trust domain."""

    def __init__(self, trust_domain: Callable[[], str], intentions: Intentions) -> None:
        self.trust_domain, self.intentions = trust_domain, intentions

    def authorize(self, caller: Caller) -> Decision:
        """The decision for one caller; Undecided while the intentions are unknown."""
        if caller.uri is None:
            return Decision(False, "the client certificate carries no SPIFFE id")
        try:
            peer = SpiffeId.parse(caller.uri)
        except NotAServiceId as error:
            return Decision(False, str(error))
        ours = self.trust_domain()
        if peer.trust_domain != ours:
            return Decision(False, f"trust domain {peer.trust_domain} is not this mesh's ({ours})")
        return self.intentions.decide(peer.service)

    async def admit(self, method: str, context: Context) -> None:
        """Let the call go on, or abort it with PERMISSION_DENIED (or UNAVAILABLE)."""
        caller = Caller.of(context)
        try:
            decision = self.authorize(caller)
        except Undecided as undecided:
            log.warning("call refused: intentions unknown", caller=caller.describe(), method=method)
            status = to_grpc_status(Unavailable(f"{undecided}; retry shortly"))
            await abort(context, status.code, status.details, status.trailing_metadata)
        if not decision.allowed:
            log.warning("call refused", caller=caller.describe(), method=method, reason=decision.reason)
            status = to_grpc_status(PermissionDenied(
                f"{caller.describe()} may not call {self.intentions.destination}: {decision.reason}"))
            await abort(context, status.code, status.details, status.trailing_metadata)


class AuthorizationInterceptor(grpc.aio.ServerInterceptor):
    """Runs `authorizer.admit` before every handler."""

    def __init__(self, authorizer: Authorizer) -> None:
        self.authorizer = authorizer

    async def intercept_service(
        self, continuation: _Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        """Wrap the handler of any kind so that it admits the caller first."""
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method, admit = handler_call_details.method, self.authorizer.admit
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(_answering(handler.unary_unary, method, admit),
                                                       handler.request_deserializer, handler.response_serializer)
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(_answering(handler.stream_unary, method, admit),
                                                        handler.request_deserializer, handler.response_serializer)
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(_streaming(handler.unary_stream, method, admit),
                                                        handler.request_deserializer, handler.response_serializer)
        assert handler.stream_stream is not None
        return grpc.stream_stream_rpc_method_handler(_streaming(handler.stream_stream, method, admit),
                                                     handler.request_deserializer, handler.response_serializer)


Admit = Callable[[str, Context], Awaitable[None]]


def _answering(inner: Callable[..., Any], method: str, admit: Admit) -> Callable[..., Awaitable[Any]]:
    async def call(request: Any, context: Context) -> Any:
        await admit(method, context)
        result = inner(request, context)
        return await result if inspect.isawaitable(result) else result
    return call


def _streaming(inner: Callable[..., Any], method: str, admit: Admit) -> Callable[..., Awaitable[None]]:
    # A coroutine that writes through the context serves a stream of responses whatever the
    # inner handler's style (an async generator, or a coroutine that writes itself).
    async def call(request: Any, context: Context) -> None:
        await admit(method, context)
        result = inner(request, context)
        if inspect.isasyncgen(result):
            async for response in result:
                await context.write(response)
        elif inspect.isawaitable(result):
            await result
    return call
