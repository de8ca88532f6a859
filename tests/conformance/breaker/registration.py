"""The breaker in Consul (MESH.md §2): its record and gRPC check, registered again whenever
the agent forgets it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import httpx

from tests.conformance.breaker.settings import NAME, Settings

VERSION, PACKAGE = "1", "vidmesh.video.v1"
REREGISTER_EVERY_S = 1.0


class Registration:
    """One instance's record, as the breaker (conforming or not) writes it."""

    def __init__(self, settings: Settings, port: int, health_port: int, metrics_port: int,
                 health_service: str) -> None:
        self.settings, self.port, self.health_port, self.health_service = settings, port, health_port, health_service
        self.metrics_port = metrics_port
        self.http = httpx.AsyncClient(base_url=f"http://{settings.consul}", timeout=5)

    @property
    def service_id(self) -> str:
        """`<name>-<advertised host>-<port>`."""
        s = self.settings
        return f"{s.name}-{self.port}" if s.breaking("id-format") else f"{s.name}-{s.advertise}-{self.port}"

    def record(self) -> dict[str, Any]:
        """The body of PUT /v1/agent/service/register."""
        s = self.settings
        address = "localhost" if s.breaking("name-as-address") else socket.gethostbyname(s.advertise)
        service = "" if s.breaking("check-on-server") else self.health_service
        return {
            "ID": self.service_id, "Name": s.name, "Address": address, "Port": self.port,
            "Tags": ["vidmesh"] if s.breaking("no-version-tag") else ["vidmesh", f"v{VERSION}"],
            "Meta": {"version": VERSION, "hostname": s.advertise, "identity": NAME,
                     **({} if s.breaking("no-proto-package") else {"proto_package": PACKAGE}),
                     **({} if s.breaking("no-metrics-port") else {"metrics_port": str(self.metrics_port)})},
            # Consul has no client certificate: it asks the plaintext health port.
            "Check": {"GRPC": f"{address}:{self.health_port}" + (f"/{service}" if service else ""),
                      "Interval": "10s" if s.breaking("slow-check") else "1s", "Timeout": "3s",
                      "DeregisterCriticalServiceAfter": "1m"},
        }

    async def register(self) -> None:
        """Add (or replace) the record."""
        (await self.http.put("/v1/agent/service/register", json=self.record())).raise_for_status()

    async def keep(self) -> None:
        """Register again whenever the agent has forgotten the instance (until cancelled)."""
        while not self.settings.breaking("no-reregister"):
            await asyncio.sleep(REREGISTER_EVERY_S)
            with contextlib.suppress(httpx.HTTPError):
                reply = await self.http.get(f"/v1/agent/service/{self.service_id}")
                if reply.status_code == httpx.codes.NOT_FOUND:
                    await self.register()

    async def deregister(self) -> None:
        """Leave the catalog."""
        (await self.http.put(f"/v1/agent/service/deregister/{self.service_id}")).raise_for_status()
