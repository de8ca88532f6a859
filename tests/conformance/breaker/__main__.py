"""`python -m tests.conformance.breaker`: serve until SIGTERM, then shut down as MESH.md §5 says
(or as KIT_BREAKS says not to)."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator
from typing import Any, cast

import grpc
import grpc.aio
from google.protobuf import message_factory
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc
from vidmesh.video.v1 import video_command_service_pb2, video_query_service_pb2

from tests.conformance.breaker import settings as breaker_settings
from tests.conformance.breaker.calls import Method, handler, log
from tests.conformance.breaker.events import Events
from tests.conformance.breaker.identity import Authorizer, fetch
from tests.conformance.breaker.metrics import Metrics
from tests.conformance.breaker.registration import Registration
from tests.conformance.breaker.settings import Settings
from tests.conformance.breaker.strings import deserializer
from tests.conformance.breaker.videos import Videos

API = (video_command_service_pb2.DESCRIPTOR.services_by_name["VideoCommandService"],
       video_query_service_pb2.DESCRIPTOR.services_by_name["VideoQueryService"])
SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


class Health(health.aio.HealthServicer):
    """grpc's own health servicer, which can be told to call every unknown name SERVING."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings, self.known = settings, {""}

    async def set(self, service: str, status: Any) -> None:
        self.known.add(service)
        await super().set(service, status)

    async def Check(self, request: health_pb2.HealthCheckRequest, context: Any) -> health_pb2.HealthCheckResponse:
        if self.settings.breaking("unknown-is-serving") and request.service not in self.known:
            return health_pb2.HealthCheckResponse(status=SERVING)
        answer: health_pb2.HealthCheckResponse = await super().Check(request, context)
        return answer


class AuthorizedHealth(health_pb2_grpc.HealthServicer):
    """The same statuses on the API port, for the callers the intentions allow (the health
    port answers anyone, in plaintext)."""

    def __init__(self, statuses: Health, authorizer: Authorizer) -> None:
        self.statuses, self.authorizer = statuses, authorizer

    async def Check(self, request: health_pb2.HealthCheckRequest, context: Any) -> health_pb2.HealthCheckResponse:
        await self.authorizer.check(context)
        return await self.statuses.Check(request, context)

    async def Watch(self, request: health_pb2.HealthCheckRequest, context: Any) -> None:
        await self.authorizer.check(context)
        await self.statuses.Watch(request, context)


class AuthorizedReflection(reflection.aio.ReflectionServicer):
    """grpc's reflection, for the callers the intentions allow."""

    def __init__(self, names: list[str], authorizer: Authorizer) -> None:
        super().__init__(names)
        self.authorizer = authorizer

    async def ServerReflectionInfo(self, request_iterator: Any, context: Any) -> Any:
        await self.authorizer.check(context)
        # An async generator, which the stubs type as a coroutine.
        answers = cast(AsyncIterator[Any], super().ServerReflectionInfo(request_iterator, context))
        async for response in answers:
            yield response


def _generic(settings: Settings, authorizer: Authorizer, metrics: Metrics, service: ServiceDescriptor,
             methods: dict[str, Method]) -> grpc.GenericRpcHandler:
    handlers = {}
    for method in service.methods:
        request, response = (message_factory.GetMessageClass(d) for d in (method.input_type, method.output_type))
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            handler(settings, authorizer, metrics, f"/{service.full_name}/{method.name}", methods.get(method.name)),
            request_deserializer=deserializer(settings, request), response_serializer=response.SerializeToString)
    return grpc.method_handlers_generic_handler(service.full_name, handlers)


async def serve(settings: Settings) -> None:
    videos, grpc_health, authorizer = Videos(settings), Health(settings), Authorizer(settings)
    metrics = Metrics(settings)
    server, health_server = grpc.aio.server(), grpc.aio.server()
    server.add_generic_rpc_handlers([
        _generic(settings, authorizer, metrics, API[0], {"CreateVideo": videos.create_video}),
        _generic(settings, authorizer, metrics, API[1], {"GetVideo": videos.get_video})])
    health_pb2_grpc.add_HealthServicer_to_server(AuthorizedHealth(grpc_health, authorizer), server)
    listed = [*(s.full_name for s in API), health.SERVICE_NAME, reflection.SERVICE_NAME]
    if settings.breaking("no-health-in-reflection"):
        listed.remove(health.SERVICE_NAME)
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(  # type: ignore[no-untyped-call]
        AuthorizedReflection(listed, authorizer), server)
    address = f"{settings.host}:{settings.port}"
    if settings.breaking("plaintext-api"):
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, (await asyncio.to_thread(fetch, settings)).server_credentials())
    # Consul's check has no client certificate: health alone, in plaintext, on a port of its own.
    health_pb2_grpc.add_HealthServicer_to_server(grpc_health, health_server)
    health_port = health_server.add_insecure_port(f"{settings.host}:{settings.health_port}")
    await server.start()
    await health_server.start()
    events = Events(settings, videos)
    if settings.breaking("needs-kafka"):
        await asyncio.to_thread(events.ensure_topics)
    for name in ["", *(s.full_name for s in API)]:
        api_down = name and settings.breaking("api-not-serving")
        await grpc_health.set(name, NOT_SERVING if api_down else SERVING)
    registration = Registration(settings, port, health_port, metrics.port, API[0].full_name)
    await registration.register()
    # A daemon thread: a consumer still waiting for an unreachable Kafka must not hold up the exit.
    consuming = threading.Thread(target=events.run, name="consumer", daemon=True)
    consuming.start()
    keeping = asyncio.create_task(registration.keep())
    log(settings, "serving", port=port, health_port=health_port)
    await _signalled()
    keeping.cancel()
    await _shut_down(settings, server, grpc_health, registration)
    await health_server.stop(0)
    if settings.breaking("slow-exit-without-kafka") and not events.reached.is_set():
        await asyncio.sleep(settings.drain_s + settings.grace_s + 5)
    events.stop()
    await asyncio.to_thread(consuming.join, settings.grace_s)


async def _shut_down(settings: Settings, server: grpc.aio.Server, grpc_health: Health,
                     registration: Registration) -> None:
    if settings.breaking("leaves-before-not-serving"):
        await registration.deregister()
        await asyncio.sleep(settings.drain_s)
        await grpc_health.enter_graceful_shutdown()
        await server.stop(settings.grace_s)
        return
    if not settings.breaking("serving-until-exit"):
        await grpc_health.enter_graceful_shutdown()
    if not settings.breaking("stays-registered"):
        await registration.deregister()
    if not settings.breaking("no-drain"):
        await asyncio.sleep(settings.drain_s)
    await server.stop(0 if settings.breaking("no-drain") or settings.breaking("drops-in-flight") else settings.grace_s)
    if settings.breaking("slow-exit"):
        await asyncio.sleep(settings.drain_s + settings.grace_s + 5)
    log(settings, "stopped")


async def _signalled() -> None:
    loop, received = asyncio.get_running_loop(), asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, received.set)
    await received.wait()


def main() -> None:
    asyncio.run(serve(breaker_settings.load()))


if __name__ == "__main__":
    main()
