"""Recommended videos as cards: the recommendations service names the videos, video-query
draws them (one GetVideo each, in parallel). Both are optional parts of a page: with the
recommendations service down the page names it in `degraded` and goes on without it.
"""

from __future__ import annotations

from vidmesh.recommendations.v1 import recommendations_service_pb2 as recommendations
from vidmesh.video.v1 import video_query_service_pb2 as query

from bff.common.deadlines import Deadlines
from bff.common.failures import Degraded, optional
from bff.common.fanout import fan_out
from bff.common.ports import Downstreams

RECOMMENDATIONS = "recommendations"  # the part name in `degraded`


class Recommended:
    """Co-liked and "for you" videos, as video-query's cards, in the service's order."""

    def __init__(self, downstreams: Downstreams, deadlines: Deadlines) -> None:
        self._recommendations, self._query = downstreams.recommendations, downstreams.video_query
        self._deadlines = deadlines

    async def related(self, video_id: str, size: int, degraded: Degraded) -> list[query.VideoCard]:
        """The videos most co-liked with `video_id`."""
        found = await optional(RECOMMENDATIONS, self._recommendations.list_related_videos(
            recommendations.ListRelatedVideosRequest(video_id=video_id, page_size=size),
            timeout=self._deadlines.part()), degraded)
        return await self._cards([v.video_id for v in found.videos] if found else [], degraded)

    async def for_user(self, user_id: str, size: int, degraded: Degraded) -> list[query.VideoCard]:
        """The viewer's "for you" list."""
        found = await optional(RECOMMENDATIONS, self._recommendations.list_for_user(
            recommendations.ListForUserRequest(user_id=user_id, page_size=size),
            timeout=self._deadlines.part()), degraded)
        return await self._cards([v.video_id for v in found.videos] if found else [], degraded)

    async def _cards(self, video_ids: list[str], degraded: Degraded) -> list[query.VideoCard]:
        # A video deleted since it was recommended is a NOT_FOUND here: it is left out. Only
        # published videos are shown, whatever the read model's lag.
        async with fan_out() as tasks:
            reads = [tasks.create_task(optional(RECOMMENDATIONS, self._query.get_video(
                query.GetVideoRequest(video_id=video_id), timeout=self._deadlines.part()), Degraded()))
                for video_id in video_ids]
        found = [read.result() for read in reads]
        return [answer.video for answer in found
                if answer is not None and answer.video.state == query.VIDEO_STATE_PUBLISHED]
