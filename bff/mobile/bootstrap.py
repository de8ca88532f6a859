"""Wiring of one mobile-bff process.

    VIDMESH_GRPC_PORT=7070 python -m bff.mobile
"""

from __future__ import annotations

from bff.common import bootstrap
from bff.common.deadlines import Deadlines
from bff.common.ports import Downstreams
from bff.mobile.server import service
from mesh.server import Service

SERVICE_NAME = "mobile-bff"


def build(downstreams: Downstreams) -> Service:
    """The mobile BFF over the given domain services."""
    return service(downstreams, Deadlines())


def main() -> None:
    """Entry point of `python -m bff.mobile`."""
    bootstrap.main(SERVICE_NAME, build)
