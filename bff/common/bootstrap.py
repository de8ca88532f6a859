"""Wiring of a BFF process: config, logs, proxyless channels to the domain services, and the
gRPC server (health, reflection, Consul) whose one dependency is the xDS control plane.

The domain services are not dependency checks: a BFF with video-query down still serves,
answering UNAVAILABLE for pages that need it and degraded pages otherwise.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bff.common.clients import GrpcNotifications, GrpcRecommendations, GrpcUsers, GrpcVideoCommand, GrpcVideoQuery
from bff.common.config import Upstreams, load_upstreams
from bff.common.ports import Downstreams
from mesh import log
from mesh.config import ConfigError, ServiceConfig, load
from mesh.server import DependencyCheck, Service, serve
from mesh.xds.bootstrap import channel

CHECK_TIMEOUT_S = 1.0


@asynccontextmanager
async def downstreams(config: ServiceConfig, upstreams: Upstreams) -> AsyncIterator[Downstreams]:
    """One xDS channel per domain service, closed when the block ends."""
    channels = {name: channel(target, config) for name, target in asdict(upstreams).items()}
    try:
        yield Downstreams(
            video_query=GrpcVideoQuery(channels["video_query"]),
            video_command=GrpcVideoCommand(channels["video_command"]),
            users=GrpcUsers(channels["users"]),
            notifications=GrpcNotifications(channels["notification"]),
            recommendations=GrpcRecommendations(channels["recommendations"]),
        )
    finally:
        await asyncio.gather(*(open_channel.close() for open_channel in channels.values()))


def control_plane_check(xds: grpc.aio.Channel) -> DependencyCheck:
    """Ready while the xDS control plane says SERVING: without it no service can be found."""
    stub: Any = health_pb2_grpc.HealthStub(xds)  # its type stubs omit the methods

    async def xds_control_plane() -> bool:
        answer = await stub.Check(health_pb2.HealthCheckRequest(), timeout=CHECK_TIMEOUT_S)
        return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)

    return xds_control_plane


async def run(config: ServiceConfig, build: Callable[[Downstreams], Service]) -> None:
    """Serve the BFF built by `build` until SIGTERM/SIGINT, then shut down gracefully."""
    async with downstreams(config, load_upstreams()) as services, grpc.aio.insecure_channel(config.xds_addr) as xds:
        await serve(config, [build(services)], checks=[control_plane_check(xds)])


def main(service_name: str, build: Callable[[Downstreams], Service]) -> None:
    """`python -m bff.web` / `python -m bff.mobile`: configure once, then serve."""
    try:
        config = load(service_name=service_name)
    except ConfigError as error:
        sys.exit(f"{service_name}: {error}")
    log.configure(config.service_name, config.log_level)
    asyncio.run(run(config, build))
