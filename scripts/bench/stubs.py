"""The generated stubs the benchmarks call, from gen/python (`make protos`)."""

from __future__ import annotations

import sys

from mesh.settings import ROOT

sys.path.insert(0, str(ROOT / "gen" / "python"))
from vidmesh.recommendations.v1 import recommendations_service_pb2 as recommendations
from vidmesh.recommendations.v1 import recommendations_service_pb2_grpc as recommendations_grpc
from vidmesh.users.v1 import users_service_pb2 as users
from vidmesh.users.v1 import users_service_pb2_grpc as users_grpc
from vidmesh.video.v1 import video_command_service_pb2 as cmd
from vidmesh.video.v1 import video_command_service_pb2_grpc as cmd_grpc
from vidmesh.video.v1 import video_query_service_pb2 as query
from vidmesh.video.v1 import video_query_service_pb2_grpc as query_grpc
from vidmesh.webbff.v1 import web_bff_service_pb2 as web
from vidmesh.webbff.v1 import web_bff_service_pb2_grpc as web_grpc

Command = cmd_grpc.VideoCommandServiceStub
Query = query_grpc.VideoQueryServiceStub
Users = users_grpc.UserServiceStub
Recommendations = recommendations_grpc.RecommendationServiceStub
WebBff = web_grpc.WebBffServiceStub

__all__ = ["Command", "Query", "Recommendations", "Users", "WebBff", "cmd", "cmd_grpc", "query", "query_grpc",
           "recommendations", "recommendations_grpc", "users", "users_grpc", "web", "web_grpc"]
