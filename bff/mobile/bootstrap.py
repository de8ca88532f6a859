"""Composition root of mobile-bff (compact, cursor-paged screens): a channel to each service it
calls, its servicer.

    VIDMESH_GRPC_PORT=7070 python -m bff.mobile

The runtime (mesh/runtime.py) owns the rest: health, Consul, signals, drain. There is no
readiness check: the BFF answers while it runs, a page degraded or UNAVAILABLE where a
service it calls has no healthy instance (bff/common/failures.py).
"""

from __future__ import annotations

from bff.common.deadlines import Deadlines
from bff.common.downstreams import open_downstreams
from bff.common.ports import Downstreams
from bff.mobile.server import service
from mesh import runtime, topology
from mesh.runtime import Runtime

ENTRY = topology.service("mobile-bff")


async def bootstrap(rt: Runtime) -> Downstreams:
    """Wire the BFF into the runtime; returns the ports it calls."""
    downstreams = await rt.enter(open_downstreams(rt))
    rt.serve(service(downstreams, Deadlines()))
    return downstreams


def main() -> None:
    """`python -m bff.mobile`."""
    runtime.main(ENTRY, bootstrap)
