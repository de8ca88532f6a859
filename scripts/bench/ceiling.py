"""The framework's ceiling: VideoQueryService/GetVideo answered by a servicer that does nothing.

    VIDMESH_GRPC_HOST=127.0.0.1 VIDMESH_GRPC_PORT=7099 python -m scripts.bench.ceiling

It runs on mesh's runtime exactly as video-query does (the same server, the whole
interceptor chain, request validation, health and reflection), but GetVideo returns a
constant card without touching a database. Driven with the same request at the same
concurrency as the real video-query, the difference between the two is what video-query's
own work costs: the query use case, the pool and Postgres.
"""

from __future__ import annotations

from typing import Any

import grpc.aio

from mesh import runtime, topology
from mesh.runtime import Runtime
from mesh.server import Service
from scripts.bench.stubs import query, query_grpc

ENTRY = topology.Service(name="bench-ceiling", command=topology.python("scripts.bench.ceiling"))
CARD = query.VideoCard(video_id="00000000-0000-4000-8000-000000000000", version=1, title="ceiling")


class EmptyVideoQuery(query_grpc.VideoQueryServiceServicer):
    """GetVideo with no work behind it."""

    async def GetVideo(self, request: query.GetVideoRequest,
                       context: grpc.aio.ServicerContext[Any, Any]) -> query.GetVideoResponse:
        return query.GetVideoResponse(video=CARD)


async def bootstrap(rt: Runtime) -> None:
    """Serve the empty servicer; no database, no workers."""
    servicer = EmptyVideoQuery()  # type: ignore[abstract]  # the other RPCs answer UNIMPLEMENTED, as generated
    rt.serve(Service(query.DESCRIPTOR.services_by_name["VideoQueryService"], servicer,
                     query_grpc.add_VideoQueryServiceServicer_to_server))


if __name__ == "__main__":
    runtime.main(ENTRY, bootstrap)
