"""What the fake domain services (fake_services.py) are made of: a shared in-memory
catalog, and `Scripted`, which records every call with its timeout and can be told to fail a
method with a status code (`fail`), be down altogether (`down`), or answer slowly (`delay`):
a slow answer honours the call's timeout like gRPC would, with DEADLINE_EXCEEDED.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from google.protobuf import timestamp_pb2
from vidmesh.users.v1 import users_service_pb2 as users
from vidmesh.video.v1 import video_query_service_pb2 as query

from bff.common.deadlines import Deadlines
from bff.common.failures import DownstreamError

T = TypeVar("T")
_clock = itertools.count(1_700_000_000)


@dataclass(frozen=True)
class Call:
    """One call a fake received."""

    method: str
    request: Any
    timeout: float


class Scripted:
    """Records calls and plays failures and delays; the base of every fake."""

    def __init__(self, service: str) -> None:
        self.service, self.down = service, False
        self.calls: list[Call] = []
        self.fail: dict[str, grpc.StatusCode] = {}
        self.delay: dict[str, float] = {}

    async def answer(self, method: str, request: Any, timeout: float, respond: Callable[[], T]) -> T:
        """Record the call, then fail, time out or return `respond()`."""
        self.calls.append(Call(method, request, timeout))
        delay = self.delay.get(method, 0.0)
        if delay:
            await asyncio.sleep(min(delay, timeout))
            if delay > timeout:
                raise DownstreamError(self.service, grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
        code = grpc.StatusCode.UNAVAILABLE if self.down else self.fail.get(method)
        if code is not None:
            raise DownstreamError(self.service, code, f"{method} failed: {code.name}")
        return respond()

    def methods(self) -> list[str]:
        """The methods called, in order."""
        return [call.method for call in self.calls]


def now() -> timestamp_pb2.Timestamp:
    """A distinct, increasing timestamp per call."""
    return timestamp_pb2.Timestamp(seconds=next(_clock))


def new_id() -> str:
    """A fresh UUID."""
    return str(uuid.uuid4())


def not_found(service: str, what: str) -> DownstreamError:
    """The NOT_FOUND a service answers for a missing thing."""
    return DownstreamError(service, grpc.StatusCode.NOT_FOUND, f"{what} not found")


@dataclass
class Catalog:
    """The videos, likes, comments and follows the fakes share."""

    videos: dict[str, query.VideoCard] = field(default_factory=dict)
    likes: set[tuple[str, str]] = field(default_factory=set)
    comments: dict[str, list[query.Comment]] = field(default_factory=dict)
    follows: set[tuple[str, str]] = field(default_factory=set)  # (follower, channel)
    profiles: dict[str, users.User] = field(default_factory=dict)

    def add_user(self, name: str = "Ada") -> str:
        """A registered user; returns their id."""
        user_id = new_id()
        self.profiles[user_id] = users.User(user_id=user_id, display_name=name, create_time=now())
        return user_id

    def add_video(self, owner_id: str, title: str = "A video", *, published: bool = True, **fields: Any) -> str:
        """A video in the read model; returns its id."""
        video_id = new_id()
        state = query.VIDEO_STATE_PUBLISHED if published else query.VIDEO_STATE_DRAFT
        card = query.VideoCard(video_id=video_id, version=2 if published else 1, owner_id=owner_id,
                               owner_display_name=self.profiles[owner_id].display_name, title=title, state=state,
                               create_time=now(), duration_seconds=fields.pop("duration_seconds", 60), **fields)
        if published:
            card.publish_time.CopyFrom(now())
        self.videos[video_id] = card
        return video_id

    def add_comment(self, video_id: str, author_id: str, body: str) -> None:
        """A comment in the read model."""
        self.comments.setdefault(video_id, []).append(query.Comment(
            comment_id=new_id(), video_id=video_id, author_id=author_id,
            author_display_name=self.profiles[author_id].display_name, body=body, create_time=now()))

    def published(self) -> list[query.VideoCard]:
        """Published videos, newest first."""
        shown = [v for v in self.videos.values() if v.state == query.VIDEO_STATE_PUBLISHED]
        return sorted(shown, key=lambda v: v.create_time.seconds, reverse=True)


def deadlines(time_left: float | None = None, **budgets: float) -> Deadlines:
    """Deadlines as if the caller had `time_left` seconds (None: no caller deadline)."""
    return Deadlines(time_left=lambda: time_left, **budgets)
