"""Consul self-registration of one service instance.

The instance registers its address with a gRPC health check that Consul runs every second
against grpc.health.v1 (NOT_SERVING reads as critical), so only ready instances are in the
passing set the gateway and the BFFs route to. An instance advertised by name (a Compose
container, a native instance on its own loopback address) registers the IP its name resolves
to, because Envoy and proxyless gRPC accept only IP endpoints; the name stays in the
metadata (`hostname`) and the service id, so a restarted container keeps its id.
py-consul's asyncio client needs aiohttp, which we do not ship, so the synchronous client runs
in a worker thread; every HTTP call has a timeout so a stuck agent cannot hang a start or a
shutdown.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import consul

from mesh.addresses import Resolver

CHECK_INTERVAL = "1s"  # Consul's minimum; how fast a dead instance drops out
CHECK_TIMEOUT = "3s"  # a dead instance fails at once; a loaded one may take over a second to answer
DEREGISTER_CRITICAL_AFTER = "1m"  # Consul's floor; cleans up after a crash without deregistration


@dataclass(frozen=True)
class Registration:
    """What Consul knows about one instance."""

    name: str
    host: str
    port: int
    version: str
    proto_package: str
    health_service: str = ""  # the grpc.health.v1 service Consul's check asks about ("" = the server)
    health_port: int = 0  # where health is served in plaintext (0: on `port`, the API's own)
    identity: str = ""  # the service its certificate names (the SPIFFE id's last part), if it has one
    metrics_port: int = 0  # where it serves /metrics on its address (0 = it serves none)

    @property
    def service_id(self) -> str:
        """Unique per instance, stable across re-registrations: `{name}-{host}-{port}`."""
        return f"{self.name}-{self.host}-{self.port}"

    @property
    def tags(self) -> list[str]:
        """Tags every vidmesh instance carries."""
        return ["vidmesh", f"v{self.version}"]

    @property
    def meta(self) -> dict[str, str]:
        """Service metadata: version, the proto package it serves, the advertised host, the
        identity a client must find in its certificate, and the port of its /metrics, which
        Prometheus scrapes (MESH.md section 14)."""
        meta = {"version": self.version, "proto_package": self.proto_package, "hostname": self.host}
        if self.identity:
            meta["identity"] = self.identity
        if self.metrics_port:
            meta["metrics_port"] = str(self.metrics_port)
        return meta

    def check(self, address: str) -> dict[str, Any]:
        """The gRPC health check Consul runs at `address` (on the plaintext health port: Consul
        has no client certificate), naming the service's health entry."""
        port = self.health_port or self.port
        target = f"{address}:{port}" + (f"/{self.health_service}" if self.health_service else "")
        return dict(
            consul.Check.grpc(
                target,
                CHECK_INTERVAL,
                timeout=CHECK_TIMEOUT,
                deregister=DEREGISTER_CRITICAL_AFTER,
            )
        )


class ConsulRegistry:
    """Registers and deregisters instances with the local Consul agent."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8500, timeout: float = 2.0,
                 resolver: Resolver | None = None) -> None:
        self._client = consul.Consul(host=host, port=port, connections_timeout=timeout)
        self._resolver = resolver or Resolver.from_env()
        # requests sessions are not meant to be shared between threads at the same time.
        self._lock = asyncio.Lock()

    async def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        async with self._lock:
            return await asyncio.to_thread(function, *args, **kwargs)

    async def register(self, registration: Registration) -> None:
        """Add (or replace) the instance and its health check; Consul starts it critical.

        Raises mesh.addresses.Unresolvable when the advertised host name resolves nowhere."""
        address = self._resolver.resolve(registration.host)
        await self._call(
            self._client.agent.service.register,
            registration.name,
            service_id=registration.service_id,
            address=address,
            port=registration.port,
            tags=registration.tags,
            meta=registration.meta,
            check=registration.check(address),
        )

    async def deregister(self, registration: Registration) -> None:
        """Remove the instance: it leaves the passing set at once."""
        await self._call(self._client.agent.service.deregister, registration.service_id)

    async def is_registered(self, registration: Registration) -> bool:
        """Whether the agent still knows the instance (a restarted dev agent forgets it)."""
        services = await self._call(self._client.agent.services)
        return registration.service_id in services
