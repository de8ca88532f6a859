"""The gRPC servicer of VideoQueryService: protobuf in, a VideoQueries call, protobuf out.

Errors are raised by the queries as mesh.errors domain errors; mesh's interceptor turns
them into status codes, so nothing here deals in codes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import grpc.aio
from google.protobuf.timestamp_pb2 import Timestamp
from vidmesh.video.v1 import video_query_service_pb2 as pb
from vidmesh.video.v1 import video_query_service_pb2_grpc as pb_grpc

from mesh.server import Service
from services.video_query.ports import Card, CommentCard
from services.video_query.queries import VideoQueries

Context = grpc.aio.ServicerContext[Any, Any]


def _timestamp(moment: datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def video_card(card: Card) -> pb.VideoCard:
    """A read-model card as the proto's VideoCard."""
    return pb.VideoCard(
        video_id=card.video_id, version=card.version, owner_id=card.owner_id,
        owner_display_name=card.owner_display_name, title=card.title, description=card.description,
        duration_seconds=card.duration_seconds, media_url=card.media_url, tags=card.tags,
        state=pb.VIDEO_STATE_PUBLISHED if card.published else pb.VIDEO_STATE_DRAFT,
        view_count=card.view_count, like_count=card.like_count, comment_count=card.comment_count,
        create_time=_timestamp(card.create_time), publish_time=_timestamp(card.publish_time),
    )


def comment(card: CommentCard) -> pb.Comment:
    """A read-model comment as the proto's Comment."""
    return pb.Comment(comment_id=card.comment_id, video_id=card.video_id, author_id=card.author_id,
                      author_display_name=card.author_display_name, body=card.body,
                      create_time=_timestamp(card.create_time))


class VideoQueryServicer(pb_grpc.VideoQueryServiceServicer):
    """Thin translation to VideoQueries."""

    def __init__(self, queries: VideoQueries, version: str = "") -> None:
        self._queries, self._version = queries, version

    async def GetVideo(self, request: pb.GetVideoRequest, context: Context) -> pb.GetVideoResponse:
        answer = await self._queries.get_video(request.video_id, request.min_version, request.viewer_id)
        return pb.GetVideoResponse(video=video_card(answer.card), viewer_liked=answer.viewer_liked,
                                   stale=answer.stale, served_by_version=self._version)

    async def ListVideos(self, request: pb.ListVideosRequest, context: Context) -> pb.ListVideosResponse:
        page = await self._queries.list_videos(request.followed_by_user_id, request.page_size, request.page_token)
        return pb.ListVideosResponse(videos=map(video_card, page.items), next_page_token=page.next_page_token)

    async def ListChannelVideos(self, request: pb.ListChannelVideosRequest,
                                context: Context) -> pb.ListChannelVideosResponse:
        page = await self._queries.list_channel_videos(request.channel_id, request.include_drafts,
                                                       request.page_size, request.page_token)
        return pb.ListChannelVideosResponse(videos=map(video_card, page.items), next_page_token=page.next_page_token)

    async def Trending(self, request: pb.TrendingRequest, context: Context) -> pb.TrendingResponse:
        page = await self._queries.trending(request.page_size, request.page_token)
        return pb.TrendingResponse(videos=map(video_card, page.items), next_page_token=page.next_page_token)

    async def SearchVideos(self, request: pb.SearchVideosRequest, context: Context) -> pb.SearchVideosResponse:
        page = await self._queries.search(request.query, request.page_size, request.page_token)
        return pb.SearchVideosResponse(videos=map(video_card, page.items), next_page_token=page.next_page_token)

    async def ListComments(self, request: pb.ListCommentsRequest, context: Context) -> pb.ListCommentsResponse:
        answer = await self._queries.list_comments(request.video_id, request.min_version, request.page_size,
                                                   request.page_token)
        return pb.ListCommentsResponse(comments=map(comment, answer.listing.items),
                                       next_page_token=answer.listing.next_page_token, stale=answer.stale)


def service(queries: VideoQueries, version: str = "") -> Service:
    """VideoQueryService, ready for the runtime; `version` is the instance's registered version."""
    return Service(pb.DESCRIPTOR.services_by_name["VideoQueryService"], VideoQueryServicer(queries, version),
                   pb_grpc.add_VideoQueryServiceServicer_to_server)
