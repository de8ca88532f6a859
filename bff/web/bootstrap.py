"""Wiring of one web-bff process.

    VIDMESH_GRPC_PORT=7060 python -m bff.web
"""

from __future__ import annotations

from bff.common import bootstrap
from bff.common.deadlines import Deadlines
from bff.common.ports import Downstreams
from bff.web.server import service
from mesh.server import Service

SERVICE_NAME = "web-bff"


def build(downstreams: Downstreams) -> Service:
    """The web BFF over the given domain services."""
    return service(downstreams, Deadlines())


def main() -> None:
    """Entry point of `python -m bff.web`."""
    bootstrap.main(SERVICE_NAME, build)
