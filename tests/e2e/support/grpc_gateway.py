"""gRPC through the gateway, as grpcurl would send it: h2c to Envoy's listener, with the
stubs generated from the same descriptors Envoy routes by."""

from __future__ import annotations

import grpc
from vidmesh.video.v1 import video_query_service_pb2 as query
from vidmesh.video.v1 import video_query_service_pb2_grpc as query_grpc

from mesh.settings import Settings

DEADLINE_S = 10.0


class GatewayGrpc:
    """A channel to the gateway's listener and the VideoQueryService stub over it."""

    def __init__(self, settings: Settings) -> None:
        self.channel = grpc.insecure_channel(f"{settings.host}:{settings.envoy_port}")
        self.video_query = query_grpc.VideoQueryServiceStub(self.channel)

    def get_video(self, video_id: str) -> query.GetVideoResponse:
        """VideoQueryService/GetVideo through the gateway."""
        answer: query.GetVideoResponse = self.video_query.GetVideo(query.GetVideoRequest(video_id=video_id),
                                                                     timeout=DEADLINE_S)
        return answer

    def close(self) -> None:
        """Close the channel."""
        self.channel.close()
