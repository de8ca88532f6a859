"""Command handlers: load the aggregate, apply the domain rule, save it with its event.

Each command runs in one unit of work that first claims its request_id, so a retry gets
the first response, and two concurrent copies of one request apply once. Owner commands
(update, publish, delete) are optimistic: the video is read without a lock and saved only
if its version is still the one read (the SQL guard decides races). Likes and comments
lock the row instead, since the contract gives them no ABORTED. RecordView, the hot path,
does it all in one statement and leaves the domain to explain a view that was refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from mesh.errors import Unavailable
from mesh.idempotency import fingerprint_of, once, replay
from services.video_command import commands as c
from services.video_command.domain import Comment, Video, VideoDeleted, VideoEvent, VideoViewed, live
from services.video_command.ports import UnitOfWork

# The results a command can store for its replays.
R = TypeVar("R", c.Created, c.Versioned, c.Likes, c.Commented)
UnitOfWorkFactory = Callable[[], UnitOfWork]


def utc_now() -> datetime:
    """The clock the service runs on."""
    return datetime.now(UTC)


class VideoCommands:
    """One method per command; each returns the command's result or raises a DomainError."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Callable[[], datetime] = utc_now,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._uow, self._clock, self._new_id = uow, clock, new_id

    async def create(self, cmd: c.CreateVideo) -> c.Created:
        async def work(uow: UnitOfWork) -> c.Created:
            event = Video.create(self._new_id(), cmd.actor_id, cmd.title, cmd.description, cmd.duration_seconds,
                                 cmd.tags, cmd.media_url, self._clock())
            await uow.videos.add(event.video)
            await uow.publish(event)
            return c.Created(event.video.id, event.video.version)
        return await self._once(cmd, c.Created, work)

    async def update(self, cmd: c.UpdateVideo) -> c.Versioned:
        async def work(uow: UnitOfWork) -> c.Versioned:
            video = live(await uow.videos.get(cmd.video_id), cmd.video_id)
            event = video.update(cmd.actor_id, cmd.expected_version, cmd.title, cmd.description, cmd.tags)
            return c.Versioned((await _apply(uow, video, event)).version)
        return await self._once(cmd, c.Versioned, work)

    async def publish(self, cmd: c.PublishVideo) -> c.Versioned:
        async def work(uow: UnitOfWork) -> c.Versioned:
            # No version given means "whatever it is now": lock, so a race cannot abort it.
            video = live(await uow.videos.get(cmd.video_id, lock=not cmd.expected_version), cmd.video_id)
            event = video.publish(cmd.actor_id, cmd.expected_version, self._clock())
            return c.Versioned((await _apply(uow, video, event)).version)
        return await self._once(cmd, c.Versioned, work)

    async def delete(self, cmd: c.DeleteVideo) -> c.Versioned:
        async def work(uow: UnitOfWork) -> c.Versioned:
            video = live(await uow.videos.get(cmd.video_id, lock=not cmd.expected_version), cmd.video_id)
            event = video.delete(cmd.actor_id, cmd.expected_version)
            if isinstance(event, VideoDeleted):
                await uow.videos.remove_likes_and_comments(video.id)
            return c.Versioned((await _apply(uow, video, event)).version)
        return await self._once(cmd, c.Versioned, work)

    async def like(self, cmd: c.LikeVideo) -> c.Likes:
        return await self._set_like(cmd, liked=True)

    async def unlike(self, cmd: c.UnlikeVideo) -> c.Likes:
        return await self._set_like(cmd, liked=False)

    async def _set_like(self, cmd: c.LikeVideo | c.UnlikeVideo, liked: bool) -> c.Likes:
        async def work(uow: UnitOfWork) -> c.Likes:
            video = live(await uow.videos.get(cmd.video_id, lock=True), cmd.video_id)
            likes_now = await uow.videos.is_liked(video.id, cmd.actor_id)
            event = video.like(cmd.actor_id, likes_now) if liked else video.unlike(cmd.actor_id, likes_now)
            if event is not None:
                await uow.videos.set_liked(video.id, cmd.actor_id, liked)
            after = await _apply(uow, video, event)
            return c.Likes(after.version, after.like_count)
        return await self._once(cmd, c.Likes, work)

    async def add_comment(self, cmd: c.AddComment) -> c.Commented:
        async def work(uow: UnitOfWork) -> c.Commented:
            video = live(await uow.videos.get(cmd.video_id, lock=True), cmd.video_id)
            comment = Comment(self._new_id(), cmd.actor_id, cmd.body, self._clock())
            event = video.add_comment(comment)
            await uow.videos.add_comment(video.id, comment)
            return c.Commented(comment.id, (await _apply(uow, video, event)).version)
        return await self._once(cmd, c.Commented, work)

    async def record_view(self, cmd: c.RecordView, *, again: bool = False) -> c.Views:
        """The hot path: one statement counts the view and claims the request_id."""
        async with self._uow() as uow:
            counted = await uow.videos.count_view(cmd.video_id, cmd.request_id, fingerprint_of(cmd))
            if counted is not None:
                await uow.publish(VideoViewed(counted, cmd.actor_id))
                await uow.commit()
                return c.Views(counted.version, counted.view_count)
        return await self._view_not_counted(cmd, again)

    async def _view_not_counted(self, cmd: c.RecordView, again: bool) -> c.Views:
        """Off the hot path: a replayed request_id, or a video that cannot be viewed (the
        domain says why). A draft published in between is counted on a second try."""
        async with self._uow() as uow:  # never committed: a claim made here is only a look
            recorded = await uow.requests.claim(cmd.request_id, type(cmd).__name__, fingerprint_of(cmd))
            if recorded is not None:
                return replay(recorded, type(cmd).__name__, fingerprint_of(cmd), c.Views)
            live(await uow.videos.get(cmd.video_id), cmd.video_id).view(cmd.actor_id)
        if again:
            raise Unavailable(f"the view of video {cmd.video_id} could not be counted; retry")
        return await self.record_view(cmd, again=True)

    async def _once(self, cmd: c.Command, result_type: type[R], work: Callable[[UnitOfWork], Awaitable[R]]) -> R:
        """Run `work` in a unit of work under the command's request_id, at most once
        (mesh.idempotency: a replay gets the first answer, another request with the id is refused)."""
        async with self._uow() as uow:
            result = await once(uow.requests, cmd.request_id, type(cmd).__name__, fingerprint_of(cmd), result_type,
                                lambda: work(uow))
            await uow.commit()
            return result



async def _apply(uow: UnitOfWork, before: Video, event: VideoEvent | None) -> Video:
    """Save the change guarded by the version it was made from and queue its event; the
    video after (unchanged when the command changed nothing)."""
    if event is None:
        return before
    await uow.videos.save(event.video, expected_version=before.version)
    await uow.publish(event)
    return event.video

