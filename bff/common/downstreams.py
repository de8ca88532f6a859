"""The services a BFF calls, as its ports: one proxyless channel (`xds:///<name>`) per service
its topology entry calls, open for the life of the process.

    downstreams = await rt.enter(bff.common.downstreams.open_downstreams(rt))

The channels resolve through the xDS control plane and keep their last configuration while
it is away, so neither the control plane nor the services are readiness checks of a BFF: a
service with no healthy instance costs the parts of a page that need it (bff.common.failures).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bff.common.clients import GrpcNotifications, GrpcRecommendations, GrpcUsers, GrpcVideoCommand, GrpcVideoQuery
from bff.common.config import load_upstreams
from bff.common.ports import Downstreams
from mesh.runtime import Runtime
from mesh.xds.bootstrap import channel


@asynccontextmanager
async def open_downstreams(rt: Runtime) -> AsyncIterator[Downstreams]:
    """The ports over one xDS channel per called service; the channels close when the block ends."""
    channels = {service: channel(name, rt.config) for service, name in load_upstreams(rt.entry, rt.environ).items()}
    try:
        yield Downstreams(
            video_query=GrpcVideoQuery(channels["video-query"]),
            video_command=GrpcVideoCommand(channels["video-command"]),
            users=GrpcUsers(channels["users"]),
            notifications=GrpcNotifications(channels["notification"]),
            recommendations=GrpcRecommendations(channels["recommendations"]),
        )
    finally:
        await asyncio.gather(*(open_channel.close() for open_channel in channels.values()))
