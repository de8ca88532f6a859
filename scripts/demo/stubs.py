"""The generated stubs the tour uses (`make protos` writes them to gen/python, which is not
an installed package: put it on the path, as pytest's configuration does)."""

from __future__ import annotations

import sys

from mesh.settings import ROOT

sys.path.insert(0, str(ROOT / "gen" / "python"))
from vidmesh.events.v1 import envelope_pb2 as envelope
from vidmesh.video.v1 import video_query_service_pb2 as query
from vidmesh.video.v1 import video_query_service_pb2_grpc as query_grpc

__all__ = ["envelope", "query", "query_grpc"]
