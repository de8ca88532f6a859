"""CreateVideo (with the request-id log of MESH.md §8) and GetVideo (which waits for
`min_version`, bounded by its deadline, MESH.md §7), over videos kept in memory; a draft is
seen by its owner only, as in video-query."""

from __future__ import annotations

import asyncio
import uuid

import grpc
from vidmesh.video.v1 import video_command_service_pb2 as command_pb
from vidmesh.video.v1 import video_query_service_pb2 as query_pb

from tests.conformance.breaker.calls import Context, status
from tests.conformance.breaker.settings import Settings

MAX_WAIT_S, POLL_S = 2.0, 0.02


class Videos:
    """Each video's owner and version, and each request id's fingerprint and first answer."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.owners: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.published: set[str] = set()
        self.requests: dict[str, tuple[bytes, command_pb.CreateVideoResponse]] = {}

    def created(self, video_id: str, owner_id: str, version: int) -> None:
        """A draft now exists at `version` (a command here, or an event)."""
        self.owners[video_id] = owner_id
        self.versions[video_id] = max(version, self.versions.get(video_id, 0))

    def publish(self, video_id: str, version: int) -> None:
        """A draft became visible to everyone (an event)."""
        if video_id not in self.owners:
            raise KeyError(f"no video {video_id} to publish")
        self.published.add(video_id)
        self.versions[video_id] = max(version, self.versions[video_id])

    async def create_video(self, request: command_pb.CreateVideoRequest,
                           context: Context) -> command_pb.CreateVideoResponse:
        """Create a draft once per request_id; the same id with another body is refused."""
        body = command_pb.CreateVideoRequest()
        body.CopyFrom(request)
        body.ClearField("request_id")
        fingerprint = body.SerializeToString(deterministic=True)
        seen = self.requests.get(request.request_id)
        if seen is not None and not self.settings.breaking("replay-applies-again"):
            if seen[0] != fingerprint and not self.settings.breaking("replay-ignores-body"):
                await context.abort(*status(grpc.StatusCode.INVALID_ARGUMENT, "request_id was used for another "
                                                                              "request", "request_id"))
            return seen[1]
        answer = command_pb.CreateVideoResponse(video_id=str(uuid.uuid4()), version=1)
        self.created(answer.video_id, request.actor_id, 1)
        self.requests[request.request_id] = (fingerprint, answer)
        return answer

    async def get_video(self, request: query_pb.GetVideoRequest, context: Context) -> query_pb.GetVideoResponse:
        """The video once it reaches min_version; NOT_FOUND if it never appears within the wait."""
        if self.settings.breaking("ignores-deadline"):
            waiting = asyncio.ensure_future(self._wait(request, MAX_WAIT_S))
            try:
                await asyncio.shield(waiting)
            except asyncio.CancelledError:
                await waiting  # carries on as if nobody had given up
        else:
            left = context.time_remaining()
            if not await self._wait(request, MAX_WAIT_S if left is None else min(MAX_WAIT_S, left)) and \
                    left is not None and left <= MAX_WAIT_S:
                await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "no answer within the deadline")
        version = self.versions.get(request.video_id)
        visible = request.video_id in self.published or request.viewer_id == self.owners.get(request.video_id)
        if version is None or not visible:
            await context.abort(*status(grpc.StatusCode.NOT_FOUND, f"no video {request.video_id}"))
        card = query_pb.VideoCard(video_id=request.video_id, owner_id=self.owners[request.video_id], version=version)
        return query_pb.GetVideoResponse(video=card, stale=version < request.min_version)

    async def _wait(self, request: query_pb.GetVideoRequest, budget: float) -> bool:
        """Whether the video reached min_version within `budget` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        while self.versions.get(request.video_id, 0) < max(request.min_version, 1):
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(POLL_S)  # in memory: polling is the simplest wait
        return True
