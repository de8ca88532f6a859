"""The breaker's settings: the VIDMESH_* variables MESH.md §1 names, and KIT_BREAKS."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from tests.conformance.breaker import BREAKS

NAME = "kit-breaker"


@dataclass(frozen=True)
class Settings:
    """What the breaker reads at start."""

    name: str
    host: str
    port: int
    health_port: int  # grpc.health.v1 in plaintext, for Consul's check (0: any free port)
    advertise: str
    consul: str
    kafka: str
    topic_prefix: str
    drain_s: float
    grace_s: float
    breaks: str  # one of BREAKS, or "" to conform

    def breaking(self, rule: str) -> bool:
        """Whether it was told to break `rule`."""
        assert rule in BREAKS, rule
        return self.breaks == rule


def load() -> Settings:
    """Read the environment once; a malformed setting exits naming it (unless told not to)."""
    env = os.environ
    breaks = env.get("KIT_BREAKS", "")
    if breaks and breaks not in BREAKS:
        sys.exit(f"{NAME}: KIT_BREAKS={breaks!r} is not one of {', '.join(BREAKS)}")
    raw_port = env.get("VIDMESH_GRPC_PORT", "0")
    if not raw_port.isdigit():
        if breaks != "ignores-bad-setting":
            sys.exit(f"{NAME}: VIDMESH_GRPC_PORT={raw_port!r} is not a port number")
        raw_port = "0"
    host = env.get("VIDMESH_GRPC_HOST", "127.0.0.1")
    return Settings(
        name=env.get("VIDMESH_SERVICE_NAME", NAME), host=host, port=int(raw_port),
        health_port=int(env.get("VIDMESH_HEALTH_PORT", "0")),
        advertise=env.get("VIDMESH_ADVERTISE_HOST", host),
        consul=env.get("VIDMESH_CONSUL_HTTP_ADDR", "127.0.0.1:8500"),
        kafka=env.get("VIDMESH_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        topic_prefix=env.get("VIDMESH_TOPIC_PREFIX", ""),
        drain_s=float(env.get("VIDMESH_DRAIN_SECONDS", "1")),
        grace_s=float(env.get("VIDMESH_SHUTDOWN_GRACE_SECONDS", "10")),
        breaks=breaks,
    )
