"""The gRPC servicer: requests to commands, results to responses, nothing else.

Validation (protovalidate) and the mapping of domain errors to status codes happen in
mesh's interceptors, so a method here is a translation and one call.
"""

from __future__ import annotations

from typing import Any

import grpc.aio
from vidmesh.video.v1 import video_command_service_pb2 as pb
from vidmesh.video.v1 import video_command_service_pb2_grpc as pb_grpc

from mesh.server import Service
from services.video_command import commands as c
from services.video_command.handlers import VideoCommands

Context = grpc.aio.ServicerContext[Any, Any]


class VideoCommandServicer(pb_grpc.VideoCommandServiceServicer):
    """vidmesh.video.v1.VideoCommandService over VideoCommands."""

    def __init__(self, handlers: VideoCommands) -> None:
        self._handlers = handlers

    async def CreateVideo(self, request: pb.CreateVideoRequest, context: Context) -> pb.CreateVideoResponse:
        result = await self._handlers.create(c.CreateVideo(
            request.request_id, request.actor_id, request.title, request.description, request.duration_seconds,
            tuple(request.tags), request.media_url))
        return pb.CreateVideoResponse(video_id=result.video_id, version=result.version)

    async def UpdateVideo(self, request: pb.UpdateVideoRequest, context: Context) -> pb.UpdateVideoResponse:
        result = await self._handlers.update(c.UpdateVideo(
            request.request_id, request.actor_id, request.video_id, request.expected_version,
            title=request.title if request.HasField("title") else None,
            description=request.description if request.HasField("description") else None,
            tags=tuple(request.tags.values) if request.HasField("tags") else None))
        return pb.UpdateVideoResponse(version=result.version)

    async def PublishVideo(self, request: pb.PublishVideoRequest, context: Context) -> pb.PublishVideoResponse:
        result = await self._handlers.publish(c.PublishVideo(
            request.request_id, request.actor_id, request.video_id, request.expected_version))
        return pb.PublishVideoResponse(version=result.version)

    async def DeleteVideo(self, request: pb.DeleteVideoRequest, context: Context) -> pb.DeleteVideoResponse:
        result = await self._handlers.delete(c.DeleteVideo(
            request.request_id, request.actor_id, request.video_id, request.expected_version))
        return pb.DeleteVideoResponse(version=result.version)

    async def LikeVideo(self, request: pb.LikeVideoRequest, context: Context) -> pb.LikeVideoResponse:
        result = await self._handlers.like(c.LikeVideo(request.request_id, request.actor_id, request.video_id))
        return pb.LikeVideoResponse(version=result.version, like_count=result.like_count)

    async def UnlikeVideo(self, request: pb.UnlikeVideoRequest, context: Context) -> pb.UnlikeVideoResponse:
        result = await self._handlers.unlike(c.UnlikeVideo(request.request_id, request.actor_id, request.video_id))
        return pb.UnlikeVideoResponse(version=result.version, like_count=result.like_count)

    async def RecordView(self, request: pb.RecordViewRequest, context: Context) -> pb.RecordViewResponse:
        result = await self._handlers.record_view(c.RecordView(request.request_id, request.actor_id, request.video_id))
        return pb.RecordViewResponse(version=result.version, view_count=result.view_count)

    async def AddComment(self, request: pb.AddCommentRequest, context: Context) -> pb.AddCommentResponse:
        result = await self._handlers.add_comment(c.AddComment(
            request.request_id, request.actor_id, request.video_id, request.body))
        return pb.AddCommentResponse(comment_id=result.comment_id, version=result.version)


def service(handlers: VideoCommands) -> Service:
    """The service, ready for mesh.server."""
    return Service(pb.DESCRIPTOR.services_by_name["VideoCommandService"], VideoCommandServicer(handlers),
                   pb_grpc.add_VideoCommandServiceServicer_to_server)
