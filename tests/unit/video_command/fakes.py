"""In-memory stand-ins for the video-command ports: a store that plays the database, and
units of work that see a private copy of it until they commit (like a transaction)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Self

from mesh.errors import Conflict
from mesh.idempotency import Recorded
from services.video_command.domain import Comment, State, Video, VideoEvent
from services.video_command.ports import UnitOfWork, Videos
from tests.unit.fake_requests import FakeRequestLog


@dataclass
class Tables:
    """What the database holds."""

    videos: dict[str, Video] = field(default_factory=dict)
    likes: set[tuple[str, str]] = field(default_factory=set)
    comments: dict[str, list[Comment]] = field(default_factory=dict)
    requests: dict[str, Recorded] = field(default_factory=dict)


@dataclass
class FakeStore:
    """The committed state, and every event committed, in order (the outbox)."""

    tables: Tables = field(default_factory=Tables)
    events: list[VideoEvent] = field(default_factory=list)


class FakeVideos(Videos):
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    async def add(self, video: Video) -> None:
        assert video.id not in self.t.videos
        self.t.videos[video.id] = video

    async def get(self, video_id: str, *, lock: bool = False) -> Video | None:
        return self.t.videos.get(video_id)

    async def save(self, video: Video, expected_version: int) -> None:
        if self.t.videos[video.id].version != expected_version:
            raise Conflict("changed meanwhile")
        self.t.videos[video.id] = video

    async def is_liked(self, video_id: str, user_id: str) -> bool:
        return (video_id, user_id) in self.t.likes

    async def set_liked(self, video_id: str, user_id: str, liked: bool) -> None:
        (self.t.likes.add if liked else self.t.likes.discard)((video_id, user_id))

    async def add_comment(self, video_id: str, comment: Comment) -> None:
        self.t.comments.setdefault(video_id, []).append(comment)

    async def remove_likes_and_comments(self, video_id: str) -> None:
        self.t.likes = {like for like in self.t.likes if like[0] != video_id}
        self.t.comments.pop(video_id, None)

    async def count_view(self, video_id: str, request_id: str, fingerprint: str) -> Video | None:
        video = self.t.videos.get(video_id)
        if video is None or video.state is not State.PUBLISHED or request_id in self.t.requests:
            return None
        viewed = replace(video, view_count=video.view_count + 1, version=video.version + 1)
        self.t.videos[video_id] = viewed
        self.t.requests[request_id] = Recorded("RecordView", fingerprint,
                                               {"version": viewed.version, "view_count": viewed.view_count})
        return viewed


class FakeUnitOfWork(UnitOfWork):
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.pending: list[VideoEvent] = []

    async def __aenter__(self) -> Self:
        self.tables = copy.deepcopy(self.store.tables)
        self.videos, self.requests = FakeVideos(self.tables), FakeRequestLog(self.tables.requests)
        return self

    async def publish(self, event: VideoEvent) -> None:
        self.pending.append(event)

    async def commit(self) -> None:
        self.store.tables = self.tables
        self.store.events.extend(self.pending)
        self.pending = []

    async def rollback(self) -> None:
        self.pending = []
