"""In-memory ports for the unit tests, and builders of real event envelopes."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.message import Message
from vidmesh.events.v1.envelope_pb2 import EventEnvelope

from mesh import events
from services.video_query.domain import Comment, FollowEdge, LikeEdge, VideoRow
from services.video_query.handlers import HANDLERS
from services.video_query.ports import ReadModel

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeReadModel(ReadModel):
    """The read tables as dicts; `saves` counts writes so tests can see no-ops."""

    def __init__(self) -> None:
        self.videos: dict[str, VideoRow] = {}
        self.likes: dict[tuple[str, str], LikeEdge] = {}
        self.comments: dict[str, Comment] = {}
        self.users: dict[str, str] = {}
        self.follows: dict[tuple[str, str], FollowEdge] = {}
        self.saves = 0

    async def video(self, video_id: str, owner_id: str) -> VideoRow:
        return copy.deepcopy(self.videos.get(video_id) or VideoRow(video_id, owner_id))

    async def save_video(self, row: VideoRow) -> None:
        self.videos[row.video_id] = copy.deepcopy(row)
        self.saves += 1

    async def like(self, video_id: str, user_id: str) -> LikeEdge:
        return copy.deepcopy(self.likes.get((video_id, user_id)) or LikeEdge(video_id, user_id))

    async def save_like(self, edge: LikeEdge) -> None:
        self.likes[(edge.video_id, edge.user_id)] = copy.deepcopy(edge)
        self.saves += 1

    async def add_comment(self, comment: Comment) -> None:
        self.comments.setdefault(comment.comment_id, comment)

    async def drop_likes_and_comments(self, video_id: str) -> None:
        self.likes = {key: edge for key, edge in self.likes.items() if key[0] != video_id}
        self.comments = {key: c for key, c in self.comments.items() if c.video_id != video_id}

    async def save_user(self, user_id: str, display_name: str) -> None:
        self.users[user_id] = display_name

    async def follow(self, follower_id: str, channel_id: str) -> FollowEdge:
        return copy.deepcopy(self.follows.get((follower_id, channel_id)) or FollowEdge(follower_id, channel_id))

    async def save_follow(self, edge: FollowEdge) -> None:
        self.follows[(edge.follower_id, edge.channel_id)] = copy.deepcopy(edge)
        self.saves += 1

    def snapshot(self) -> dict[str, Any]:
        """Everything stored, comparable with ==."""
        return copy.deepcopy({"videos": self.videos, "likes": self.likes, "comments": self.comments,
                              "users": self.users, "follows": self.follows})


def new_id() -> str:
    return str(uuid.uuid4())


def envelope(event: Message, aggregate_id: str, version: int = 0, at: datetime = T0) -> EventEnvelope:
    """A validated envelope, as a producer would publish it."""
    return events.envelope(event, "/vidmesh/unit-test", f"x/{aggregate_id}", aggregate_id, version, time=at)


async def apply(model: ReadModel, env: EventEnvelope) -> None:
    """What the projector does with one record: unpack and hand it to its handler."""
    _, payload = events.unpack(env.SerializeToString())
    await HANDLERS[type(payload)](model, env, payload)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)
