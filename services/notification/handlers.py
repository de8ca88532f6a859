"""Events and requests → domain rules → store and publisher.

Event handlers run inside the consumer's inbox transaction (they never commit); request
handlers open their own unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vidmesh.users.v1.events_pb2 import UserFollowed, UserRegistered, UserUnfollowed
from vidmesh.video.v1.events_pb2 import CommentAdded, VideoLiked, VideoPublished

from mesh import paging
from mesh.idempotency import fingerprint_of, once
from services.notification import domain
from services.notification.domain import MarkRead, NewNotification, Notification, Publication
from services.notification.ports import Cause, Publisher, Store, UnitOfWorkFactory

# --- events -------------------------------------------------------------------------------


async def on_user_registered(store: Store, publisher: Publisher, cause: Cause, event: UserRegistered) -> None:
    """Remember the new user's name, for the texts of notifications they cause."""
    await store.remember_name(event.user_id, event.display_name)


async def on_user_followed(store: Store, publisher: Publisher, cause: Cause, event: UserFollowed) -> None:
    """Keep the follow for later fan-outs, tell the channel's owner, and tell the follower of
    what the channel published after the follow but this service heard of first."""
    await store.follow(event.follower_id, event.channel_id, since=cause.time)
    if event.follower_display_name:
        await store.remember_name(event.follower_id, event.follower_display_name)
    name = event.follower_display_name or await store.name_of(event.follower_id)
    await _notify(store, publisher, cause, domain.new_follower(
        cause.event_id, channel_id=event.channel_id, follower_id=event.follower_id, follower_name=name))
    for publication in await store.publications_of(event.channel_id, after=cause.time):
        await _tell_of(store, publisher, cause, publication, [event.follower_id])


async def on_user_unfollowed(store: Store, publisher: Publisher, cause: Cause, event: UserUnfollowed) -> None:
    """Forget the follow: the next fan-out leaves this follower out."""
    await store.unfollow(event.follower_id, event.channel_id)


async def on_video_published(store: Store, publisher: Publisher, cause: Cause, event: VideoPublished) -> None:
    """Tell every follower of the uploader who followed before the publication.

    Follows (users.v1) and publications (video.v1) travel on different topics, so either may
    arrive first; the publication is kept and each side looks for the other by the events'
    times, so a follower is told exactly when the follow came first, in any arrival order."""
    publication = Publication(video_id=event.video_id, owner_id=event.owner_id, title=event.title,
                              event_id=cause.event_id, published_at=cause.time)
    await store.remember_publication(publication)
    await _tell_of(store, publisher, cause, publication, await store.followers_of(event.owner_id, before=cause.time))


async def _tell_of(store: Store, publisher: Publisher, cause: Cause, publication: Publication,
                   followers: list[str]) -> None:
    await _notify(store, publisher, cause, domain.video_published(
        publication.event_id, video_id=publication.video_id, owner_id=publication.owner_id, title=publication.title,
        owner_name=await store.name_of(publication.owner_id), followers=followers))


async def on_comment_added(store: Store, publisher: Publisher, cause: Cause, event: CommentAdded) -> None:
    """Tell the video's owner (the event carries it, so no copy of video owners is needed)."""
    await _notify(store, publisher, cause, domain.comment_added(
        cause.event_id, video_id=event.video_id, owner_id=event.owner_id, author_id=event.author_id,
        author_name=await store.name_of(event.author_id), title=event.title))


async def on_video_liked(store: Store, publisher: Publisher, cause: Cause, event: VideoLiked) -> None:
    """Tell the video's owner."""
    await _notify(store, publisher, cause, domain.video_liked(
        cause.event_id, video_id=event.video_id, owner_id=event.owner_id, user_id=event.user_id,
        user_name=await store.name_of(event.user_id), title=event.title))


async def _notify(store: Store, publisher: Publisher, cause: Cause, notifications: Iterable[NewNotification]) -> None:
    for notification in notifications:
        # The unique key makes the effect idempotent even without the inbox; only a new
        # notification is announced.
        if await store.add(notification):
            await publisher.notification_created(notification, cause)


# --- requests -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    """Which page of whose notifications."""

    user_id: str
    page_size: int = 0
    page_token: str = ""
    unread_only: bool = False

    @property
    def fingerprint(self) -> str:
        """What a page token must have been issued for."""
        return f"notifications|{self.user_id}|{self.unread_only}"


@dataclass(frozen=True)
class Page:
    """One page of notifications and the token of the next ("" on the last)."""

    notifications: list[Notification]
    next_page_token: str


async def list_notifications(uows: UnitOfWorkFactory, query: ListQuery) -> Page:
    """A page of the user's notifications, newest first."""
    after, size = paging.decode(query.page_token, query.fingerprint), paging.page_size(query.page_size)
    async with uows() as uow:
        found = await uow.store.page(query.user_id, query.unread_only, after, size + 1)
    page, more = found[:size], len(found) > size
    last = page[-1] if page else None
    token = paging.encode(paging.Cursor(last.create_time, last.notification_id), query.fingerprint) \
        if more and last else ""
    return Page(page, token)


async def unread_count(uows: UnitOfWorkFactory, user_id: str) -> int:
    """How many of the user's notifications are unread."""
    async with uows() as uow:
        return await uow.store.unread_count(user_id)


@dataclass(frozen=True)
class Marked:
    """MarkRead's answer (replayed, as it was, to a retry of its request_id)."""

    marked_count: int  # marked read by this request
    unread_count: int  # the user's unread notifications right after it


async def mark_read(uows: UnitOfWorkFactory, command: MarkRead) -> Marked:
    """Mark notifications read, once per request_id (mesh.idempotency). The fingerprint holds
    the user: a request_id is the caller's, and another user reusing it is refused."""
    async with uows() as uow:
        done = await once(uow.requests, command.request_id, "MarkRead", fingerprint_of(command), Marked,
                          lambda: _mark(uow.store, command))
        await uow.commit()
    return done


async def _mark(store: Store, command: MarkRead) -> Marked:
    marked = await store.mark_read(command.user_id, None if command.all else command.notification_ids)
    return Marked(marked, await store.unread_count(command.user_id))
