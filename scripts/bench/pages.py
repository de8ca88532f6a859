"""The web video page: at web-bff (gRPC), through Envoy (gRPC and REST), and the same page
made by the client calling the services itself, which is what the BFF saves a client.

The page read is GetVideoPage for one published video with a real uploader and comments
(anonymous viewer). web-bff fans out to video-query (the video, its comments, the channel's
videos), users (the uploader) and recommendations (co-liked videos); the client-side
fan-out below makes the same five calls in the same order, spread over the two
video-query instances as the BFF's proxyless channel does.
"""

from __future__ import annotations

import asyncio
import uuid

import grpc.aio

from mesh.settings import Settings
from scripts.bench import stubs
from scripts.bench.processes import address

PAGE_METHOD = "vidmesh.webbff.v1.WebBffService.GetVideoPage"
DEADLINE_S = 5.0
COMMENTS = 5


async def page_video(settings: Settings) -> str:
    """A published video of a registered user, with comments, visible in the read model."""
    async with (grpc.aio.insecure_channel(address(settings, "users")) as u,
                grpc.aio.insecure_channel(address(settings, "video_command")) as c,
                grpc.aio.insecure_channel(address(settings, "video_query")) as q):
        users, command, query = stubs.Users(u), stubs.Command(c), stubs.Query(q)
        owner = (await users.Register(stubs.users.RegisterRequest(
            request_id=str(uuid.uuid4()), email=f"bench-{uuid.uuid4().hex[:12]}@example.test",
            password="bench password 1", display_name="Bench"), timeout=DEADLINE_S * 4)).user_id
        video = (await command.CreateVideo(stubs.cmd.CreateVideoRequest(
            request_id=str(uuid.uuid4()), actor_id=owner, title="The bench's page", description="priced",
            duration_seconds=95), timeout=DEADLINE_S)).video_id
        version = (await command.PublishVideo(stubs.cmd.PublishVideoRequest(
            request_id=str(uuid.uuid4()), actor_id=owner, video_id=video), timeout=DEADLINE_S)).version
        for n in range(COMMENTS):
            version = (await command.AddComment(stubs.cmd.AddCommentRequest(
                request_id=str(uuid.uuid4()), actor_id=owner, video_id=video, body=f"comment {n}"),
                timeout=DEADLINE_S)).version
        seen = await query.GetVideo(stubs.query.GetVideoRequest(video_id=video, min_version=version),
                                    timeout=DEADLINE_S)
        if seen.stale:
            raise RuntimeError(f"the read model did not reach version {version} of the bench's video")
        return str(video)


class ClientFanOut:
    """The page's five calls made by the client itself, in the BFF's order."""

    def __init__(self, settings: Settings) -> None:
        instances = ",".join(address(settings, "video_query", n)
                             for n in range(settings.instances["video_query"]))
        self._channels = [grpc.aio.insecure_channel(f"ipv4:{instances}",
                                                    options=[("grpc.lb_policy_name", "round_robin")]),
                          grpc.aio.insecure_channel(address(settings, "users")),
                          grpc.aio.insecure_channel(address(settings, "recommendations"))]
        query, users, recommendations = self._channels
        self._query, self._users = stubs.Query(query), stubs.Users(users)
        self._recommendations = stubs.Recommendations(recommendations)

    async def page(self, video_id: str) -> None:
        """The video, then its uploader and channel; comments and co-liked videos alongside."""
        comments = asyncio.ensure_future(self._query.ListComments(
            stubs.query.ListCommentsRequest(video_id=video_id, page_size=20), timeout=DEADLINE_S))
        related = asyncio.ensure_future(self._recommendations.ListRelatedVideos(
            stubs.recommendations.ListRelatedVideosRequest(video_id=video_id, page_size=8), timeout=DEADLINE_S))
        try:
            found = await self._query.GetVideo(stubs.query.GetVideoRequest(video_id=video_id), timeout=DEADLINE_S)
            owner = found.video.owner_id
            await asyncio.gather(
                self._users.GetUser(stubs.users.GetUserRequest(user_id=owner), timeout=DEADLINE_S),
                self._query.ListChannelVideos(stubs.query.ListChannelVideosRequest(channel_id=owner, page_size=9),
                                              timeout=DEADLINE_S),
                comments, related)
        finally:
            for call in (comments, related):
                call.cancel()

    async def close(self) -> None:
        """Close the channels."""
        for channel in self._channels:
            await channel.close()


class BffPage:
    """The same page asked of web-bff in one call, by the same generator."""

    def __init__(self, settings: Settings) -> None:
        self._channel = grpc.aio.insecure_channel(address(settings, "web_bff"))
        self._bff = stubs.WebBff(self._channel)

    async def page(self, video_id: str) -> None:
        """GetVideoPage."""
        await self._bff.GetVideoPage(stubs.web.GetVideoPageRequest(video_id=video_id), timeout=DEADLINE_S)

    async def close(self) -> None:
        """Close the channel."""
        await self._channel.close()
