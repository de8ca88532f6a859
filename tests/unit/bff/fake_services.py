"""The five domain services, faked in memory behind the BFF ports."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from vidmesh.notification.v1 import notification_pb2
from vidmesh.notification.v1 import notification_service_pb2 as notification
from vidmesh.recommendations.v1 import recommendations_service_pb2 as recommendations
from vidmesh.users.v1 import users_service_pb2 as users
from vidmesh.video.v1 import video_command_service_pb2 as command
from vidmesh.video.v1 import video_query_service_pb2 as query

from bff.common import ports
from tests.unit.bff.fakes import Catalog, Scripted, new_id, not_found, now


class FakeVideoQuery(Scripted, ports.VideoQuery):
    """video-query over the catalog: drafts only to their owner, newest first."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__("video-query")
        self.catalog = catalog

    async def get_video(self, request: query.GetVideoRequest, *, timeout: float) -> query.GetVideoResponse:
        def respond() -> query.GetVideoResponse:
            video = self.catalog.videos.get(request.video_id)
            if video is None or (video.state != query.VIDEO_STATE_PUBLISHED and video.owner_id != request.viewer_id):
                raise not_found(self.service, "video")
            return query.GetVideoResponse(video=video, stale=video.version < request.min_version, served_by_version="1",
                                          viewer_liked=(video.video_id, request.viewer_id) in self.catalog.likes)
        return await self.answer("GetVideo", request, timeout, respond)

    async def list_videos(self, request: query.ListVideosRequest, *, timeout: float) -> query.ListVideosResponse:
        def respond() -> query.ListVideosResponse:
            videos = self.catalog.published()
            if request.followed_by_user_id:
                videos = [v for v in videos if (request.followed_by_user_id, v.owner_id) in self.catalog.follows]
            return query.ListVideosResponse(videos=videos[: request.page_size or 20])
        return await self.answer("ListVideos", request, timeout, respond)

    async def list_channel_videos(
        self, request: query.ListChannelVideosRequest, *, timeout: float
    ) -> query.ListChannelVideosResponse:
        def respond() -> query.ListChannelVideosResponse:
            videos = sorted(self.catalog.videos.values(), key=lambda v: v.create_time.seconds, reverse=True)
            videos = [v for v in videos if v.owner_id == request.channel_id
                      and (request.include_drafts or v.state == query.VIDEO_STATE_PUBLISHED)]
            return query.ListChannelVideosResponse(videos=videos[: request.page_size or 20])
        return await self.answer("ListChannelVideos", request, timeout, respond)

    async def trending(self, request: query.TrendingRequest, *, timeout: float) -> query.TrendingResponse:
        def respond() -> query.TrendingResponse:
            ranked = sorted(self.catalog.published(), key=lambda v: v.view_count, reverse=True)
            return query.TrendingResponse(videos=ranked[: request.page_size or 20])
        return await self.answer("Trending", request, timeout, respond)

    async def search_videos(self, request: query.SearchVideosRequest, *, timeout: float) -> query.SearchVideosResponse:
        def respond() -> query.SearchVideosResponse:
            found = [v for v in self.catalog.published() if request.query.lower() in v.title.lower()]
            return query.SearchVideosResponse(videos=found[: request.page_size or 20], next_page_token="next")
        return await self.answer("SearchVideos", request, timeout, respond)

    async def list_comments(self, request: query.ListCommentsRequest, *, timeout: float) -> query.ListCommentsResponse:
        def respond() -> query.ListCommentsResponse:
            found = self.catalog.comments.get(request.video_id, [])
            start = int(request.page_token or 0)  # the fake's token is an offset
            end = start + (request.page_size or 20)
            return query.ListCommentsResponse(comments=found[start:end],
                                              next_page_token=str(end) if end < len(found) else "")
        return await self.answer("ListComments", request, timeout, respond)


class FakeVideoCommand(Scripted, ports.VideoCommand):
    """video-command: answers each command with the next version."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__("video-command")
        self.catalog, self._versions = catalog, itertools.count(2)

    async def create_video(self, request: command.CreateVideoRequest, *, timeout: float
                           ) -> command.CreateVideoResponse:
        return await self.answer("CreateVideo", request, timeout,
                                 lambda: command.CreateVideoResponse(video_id=new_id(), version=1))

    async def publish_video(self, request: command.PublishVideoRequest, *, timeout: float
                            ) -> command.PublishVideoResponse:
        return await self.answer("PublishVideo", request, timeout,
                                 lambda: command.PublishVideoResponse(version=next(self._versions)))

    async def like_video(self, request: command.LikeVideoRequest, *, timeout: float) -> command.LikeVideoResponse:
        return await self.answer("LikeVideo", request, timeout,
                                 lambda: command.LikeVideoResponse(version=next(self._versions), like_count=1))

    async def unlike_video(self, request: command.UnlikeVideoRequest, *, timeout: float
                           ) -> command.UnlikeVideoResponse:
        return await self.answer("UnlikeVideo", request, timeout,
                                 lambda: command.UnlikeVideoResponse(version=next(self._versions)))

    async def record_view(self, request: command.RecordViewRequest, *, timeout: float) -> command.RecordViewResponse:
        return await self.answer("RecordView", request, timeout,
                                 lambda: command.RecordViewResponse(version=next(self._versions), view_count=1))

    async def add_comment(self, request: command.AddCommentRequest, *, timeout: float) -> command.AddCommentResponse:
        return await self.answer("AddComment", request, timeout, lambda: command.AddCommentResponse(
            comment_id=new_id(), version=next(self._versions)))


class FakeUsers(Scripted, ports.Users):
    """users over the catalog's profiles and follows."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__("users")
        self.catalog = catalog

    async def get_user(self, request: users.GetUserRequest, *, timeout: float) -> users.GetUserResponse:
        def respond() -> users.GetUserResponse:
            if request.user_id not in self.catalog.profiles:
                raise not_found(self.service, "user")
            user = users.User()
            user.CopyFrom(self.catalog.profiles[request.user_id])
            user.follower_count = sum(1 for _, channel in self.catalog.follows if channel == request.user_id)
            follows = (request.viewer_id, request.user_id) in self.catalog.follows
            return users.GetUserResponse(user=user, viewer_follows=follows)
        return await self.answer("GetUser", request, timeout, respond)

    async def follow(self, request: users.FollowRequest, *, timeout: float) -> users.FollowResponse:
        def respond() -> users.FollowResponse:
            self.catalog.follows.add((request.follower_id, request.channel_id))
            return users.FollowResponse(follower_count=1)
        return await self.answer("Follow", request, timeout, respond)

    async def unfollow(self, request: users.UnfollowRequest, *, timeout: float) -> users.UnfollowResponse:
        def respond() -> users.UnfollowResponse:
            self.catalog.follows.discard((request.follower_id, request.channel_id))
            return users.UnfollowResponse(follower_count=0)
        return await self.answer("Unfollow", request, timeout, respond)


@dataclass
class Inboxes:
    """Each user's notifications, newest last."""

    entries: dict[str, list[notification_pb2.Notification]] = field(default_factory=dict)

    def add(self, user_id: str, text: str, *, read: bool = False) -> None:
        self.entries.setdefault(user_id, []).append(notification_pb2.Notification(
            notification_id=new_id(), recipient_id=user_id, kind=notification_pb2.NOTIFICATION_KIND_NEW_FOLLOWER,
            actor_id=new_id(), text=text, read=read, create_time=now()))

    def unread(self, user_id: str) -> int:
        return sum(1 for entry in self.entries.get(user_id, []) if not entry.read)


class FakeNotifications(Scripted, ports.Notifications):
    """notification over in-memory inboxes."""

    def __init__(self) -> None:
        super().__init__("notification")
        self.inboxes = Inboxes()

    async def list_notifications(self, request: notification.ListNotificationsRequest, *, timeout: float
                                 ) -> notification.ListNotificationsResponse:
        def respond() -> notification.ListNotificationsResponse:
            newest_first = list(reversed(self.inboxes.entries.get(request.user_id, [])))
            return notification.ListNotificationsResponse(notifications=newest_first[: request.page_size or 20])
        return await self.answer("ListNotifications", request, timeout, respond)

    async def unread_count(self, request: notification.UnreadCountRequest, *, timeout: float
                           ) -> notification.UnreadCountResponse:
        return await self.answer("UnreadCount", request, timeout, lambda: notification.UnreadCountResponse(
            unread_count=self.inboxes.unread(request.user_id)))

    async def mark_read(self, request: notification.MarkReadRequest, *, timeout: float
                        ) -> notification.MarkReadResponse:
        def respond() -> notification.MarkReadResponse:
            marked = 0
            for entry in self.inboxes.entries.get(request.user_id, []):
                if not entry.read and (request.all or entry.notification_id in request.notification_ids):
                    entry.read, marked = True, marked + 1
            return notification.MarkReadResponse(marked_count=marked, unread_count=self.inboxes.unread(request.user_id))
        return await self.answer("MarkRead", request, timeout, respond)


class FakeRecommendations(Scripted, ports.Recommendations):
    """recommendations with lists the test sets: video id -> related ids, user id -> ids."""

    def __init__(self) -> None:
        super().__init__("recommendations")
        self.related: dict[str, list[str]] = {}
        self.for_user: dict[str, list[str]] = {}

    async def list_related_videos(self, request: recommendations.ListRelatedVideosRequest, *, timeout: float
                                  ) -> recommendations.ListRelatedVideosResponse:
        def respond() -> recommendations.ListRelatedVideosResponse:
            listed = self.related.get(request.video_id, [])
            return recommendations.ListRelatedVideosResponse(videos=_recommended(listed, request.page_size))
        return await self.answer("ListRelatedVideos", request, timeout, respond)

    async def list_for_user(self, request: recommendations.ListForUserRequest, *, timeout: float
                            ) -> recommendations.ListForUserResponse:
        def respond() -> recommendations.ListForUserResponse:
            listed = self.for_user.get(request.user_id, [])
            return recommendations.ListForUserResponse(videos=_recommended(listed, request.page_size))
        return await self.answer("ListForUser", request, timeout, respond)


def _recommended(ids: list[str], page_size: int) -> list[recommendations.RecommendedVideo]:
    return [recommendations.RecommendedVideo(video_id=video_id, reason=recommendations.REASON_CO_LIKED)
            for video_id in ids[: page_size or 20]]


@dataclass
class Fakes:
    """The five fakes over one catalog, and the ports bundle the BFFs take."""

    catalog: Catalog = field(default_factory=Catalog)

    def __post_init__(self) -> None:
        self.video_query, self.video_command = FakeVideoQuery(self.catalog), FakeVideoCommand(self.catalog)
        self.users, self.notifications = FakeUsers(self.catalog), FakeNotifications()
        self.recommendations = FakeRecommendations()
        self.downstreams = ports.Downstreams(self.video_query, self.video_command, self.users, self.notifications,
                                             self.recommendations)

    def all(self) -> list[Scripted]:
        """Every fake, to look at all calls made."""
        return [self.video_query, self.video_command, self.users, self.notifications, self.recommendations]
