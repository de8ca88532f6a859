"""The gRPC server of every vidmesh process (mesh/runtime.py runs it): bind, health,
reflection, Consul, shutdown.

Life of an instance:
1. bind VIDMESH_GRPC_HOST:VIDMESH_GRPC_PORT (0 = any free port; the real one is read back),
   with mutual TLS when it is given `security` (every call then needs a client certificate
   from the CA and an intention that allows its identity, mesh/authz.py), serve
   grpc.health.v1 (NOT_SERVING) and server reflection there, and health alone in plaintext
   on VIDMESH_HEALTH_PORT of the same host, for Consul's check and the stack's prober, which
   have no certificate; register in Consul (with the metrics port of `metrics`, if given);
2. while all dependency checks pass, health says SERVING and Consul's check passes; a failing
   check flips it back to NOT_SERVING (checked every `check_interval` seconds);
3. on SIGTERM/SIGINT: NOT_SERVING everywhere, deregister, wait `drain_s` so routers catch up,
   then stop accepting calls and let in-flight ones finish within the grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import grpc
import grpc.aio
import structlog
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from mesh.authz import Authorizer
from mesh.config import ServiceConfig
from mesh.identity import Identity
from mesh.interceptors import default_interceptors
from mesh.metrics import Metrics
from mesh.registry import ConsulRegistry, Registration

DependencyCheck = Callable[[], Awaitable[object]]
CHECK_TIMEOUT_S = 2.0
FAILURES_TO_LEAVE = 2
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
_log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Service:
    """One gRPC service to host: its descriptor, servicer and generated `add_*_to_server`."""

    descriptor: ServiceDescriptor
    servicer: object
    add_to_server: Callable[[Any, grpc.aio.Server], None]

    @property
    def name(self) -> str:
        """The fully-qualified name (`vidmesh.users.v1.UserService`)."""
        return self.descriptor.full_name


@dataclass(frozen=True)
class Security:
    """Mutual TLS for a server: the credentials it binds with, who decides each call, and the
    identity it presents (its service is told to Consul, so that clients expect it)."""

    credentials: grpc.ServerCredentials
    authorizer: Authorizer
    identity: Identity


class Server:
    """A running service instance; use `async with Server(...)` or `serve(...)`."""

    def __init__(
        self,
        config: ServiceConfig,
        services: Sequence[Service],
        *,
        checks: Sequence[DependencyCheck] = (),
        registry: ConsulRegistry | None = None,
        check_interval: float = 2.0,
        security: Security | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        if not services:
            raise ValueError("a server needs at least one service")
        self.config, self.services, self.checks = config, list(services), list(checks)
        self.registry, self.check_interval = registry, check_interval
        self.security, self.metrics = security, metrics
        self.port = self.health_port = 0
        self.health = health.aio.HealthServicer()
        interceptors = default_interceptors(config.max_rpc_s, metrics,
                                            authorizer=security.authorizer if security is not None else None)
        # so_reuseport 0: without it, a second process on a fixed port would share it silently.
        self.grpc = grpc.aio.server(interceptors=interceptors, options=[("grpc.so_reuseport", 0)])
        self.health_grpc = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        self._monitor: asyncio.Task[None] | None = None

    @property
    def registration(self) -> Registration:
        """How this instance appears in Consul (known once the port is bound)."""
        config, package = self.config, self.services[0].descriptor.file.package
        return Registration(config.service_name, config.advertise_host, self.port, config.version, package,
                            health_service=self.services[0].name, health_port=self.health_port,
                            identity=self.security.identity.service if self.security else "",
                            metrics_port=self.metrics.port if self.metrics else 0)

    async def start(self) -> int:
        """Bind, start serving (NOT_SERVING until the checks pass) and register; returns the port."""
        for service in self.services:
            service.add_to_server(service.servicer, self.grpc)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.health_grpc)
        names = [service.name for service in self.services]
        reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.grpc)
        reflection.enable_server_reflection([health.SERVICE_NAME, reflection.SERVICE_NAME], self.health_grpc)
        for name in ["", *names]:
            await self.health.set(name, NOT_SERVING)
        self.port = self._bind(self.grpc, self.config.grpc_port, self.security.credentials if self.security else None)
        self.health_port = self._bind(self.health_grpc, self.config.health_port, None)
        await self.grpc.start()
        await self.health_grpc.start()
        _log.info("serving", host=self.config.grpc_host, port=self.port, health_port=self.health_port,
                  mtls=self.security is not None, services=names)
        await self._register()
        self._monitor = asyncio.create_task(self._watch_dependencies(names), name="dependency-checks")
        return self.port

    def _bind(self, server: grpc.aio.Server, port_wanted: int, credentials: grpc.ServerCredentials | None) -> int:
        address = f"{self.config.grpc_host}:{port_wanted}"
        try:
            port = server.add_secure_port(address, credentials) if credentials else server.add_insecure_port(address)
        except RuntimeError as error:
            raise OSError(f"cannot bind {address}: {error}") from error
        if not port:
            raise OSError(f"cannot bind {address}")
        return int(port)

    async def _register(self) -> None:
        if self.registry is None:
            return
        try:
            await self.registry.register(self.registration)
            _log.info("registered", service_id=self.registration.service_id)
        except Exception as error:  # Consul may come up later: the monitor loop retries.
            _log.warning("consul registration failed", error=repr(error))

    async def _watch_dependencies(self, names: list[str]) -> None:
        status: int | None = None  # so the first outcome (and why it failed) is always logged
        failures = 0
        while True:
            failure = await first_failure(self.checks, timeout=max(self.check_interval, CHECK_TIMEOUT_S))
            failures = failures + 1 if failure else 0
            wanted: int
            if not failure:
                wanted = SERVING
            elif status == SERVING and failures < FAILURES_TO_LEAVE:
                wanted = SERVING  # one slow answer on a loaded machine is not an outage
            else:
                wanted = NOT_SERVING
            if wanted != status:
                status = wanted
                _log.info("health", status=health_pb2.HealthCheckResponse.ServingStatus.Name(wanted), reason=failure)
                for name in ["", *names]:
                    await self.health.set(name, status)
            await self._ensure_registered()
            await asyncio.sleep(self.check_interval)

    async def _ensure_registered(self) -> None:
        if self.registry is None:
            return
        try:
            if not await self.registry.is_registered(self.registration):
                await self._register()
        except Exception as error:
            _log.warning("consul unreachable", error=repr(error))

    async def shutdown(self, grace: float | None = None) -> None:
        """NOT_SERVING, deregister, drain, then stop; in-flight calls get `grace` seconds."""
        await self.leave()
        await self.stop(self.config.shutdown_grace_s if grace is None else grace)

    async def leave(self) -> None:
        """NOT_SERVING everywhere, deregister, then wait `drain_s` so routers catch up; calls
        are still answered meanwhile."""
        if self._monitor is not None:
            self._monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._monitor
        await self.health.enter_graceful_shutdown()
        if self.registry is not None and self.port:
            try:
                await self.registry.deregister(self.registration)
                _log.info("deregistered", service_id=self.registration.service_id)
            except Exception as error:  # Consul reaps the critical instance after a minute.
                _log.warning("consul deregistration failed", error=repr(error))
        await asyncio.sleep(self.config.drain_s)

    async def stop(self, grace: float) -> None:
        """Stop taking calls; in-flight ones get `grace` seconds to finish."""
        await asyncio.gather(self.grpc.stop(grace), self.health_grpc.stop(0))
        _log.info("server stopped")

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.shutdown()


async def first_failure(checks: Sequence[DependencyCheck], timeout: float) -> str | None:
    """None when every check passes (returns anything but False, within `timeout`), else
    why the first failing one failed."""
    results = await asyncio.gather(*(asyncio.wait_for(check(), timeout) for check in checks), return_exceptions=True)
    for check, result in zip(checks, results, strict=True):
        name = getattr(check, "__qualname__", repr(check))
        if isinstance(result, BaseException):
            return f"{name}: {result!r}"
        if result is False:
            return f"{name}: not ready"
    return None
