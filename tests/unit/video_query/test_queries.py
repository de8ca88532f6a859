"""Read rules with in-memory views: who sees drafts, read-your-writes waits, page tokens."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from mesh.errors import InvalidArgument, NotFound
from services.video_query.paging import PageTokens
from services.video_query.ports import Card, CommentCard, Key, Page, Views
from services.video_query.queries import VideoQueries
from services.video_query.waiting import VersionWaiter, wait_budget
from tests.unit.video_query.fakes import T0, new_id

OWNER, VIEWER = new_id(), new_id()


def card(video_id: str, version: int = 1, published: bool = True) -> Card:
    return Card(video_id, version, OWNER, "Olga", "t", "d", 60, "", [], published, 0, 0, 0, T0,
                T0 if published else None)


class FakeViews(Views):
    """Cards by id; lists page through `cards` in order, keyed by position."""

    def __init__(self, *cards: Card) -> None:
        self.cards = {c.video_id: c for c in cards}
        self.seen: dict[str, int] = {c.video_id: c.version for c in cards}
        self.likes: set[tuple[str, str]] = set()
        self.version_read = asyncio.Event()

    async def seen_version(self, video_id: str) -> int | None:
        self.version_read.set()
        return self.seen.get(video_id)

    async def card(self, video_id: str) -> Card | None:
        return self.cards.get(video_id)

    async def seen_card(self, video_id: str) -> tuple[int | None, Card | None]:
        return await self.seen_version(video_id), await self.card(video_id)

    async def liked(self, video_id: str, user_id: str) -> bool:
        return (video_id, user_id) in self.likes

    async def feed(self, followed_by: str, after: Key | None, size: int) -> Page[Card]:
        start = int(after[0]) if after else 0
        items = list(self.cards.values())[start:start + size]
        return Page(items, (start + size, "x") if start + size < len(self.cards) else None)

    async def channel(self, channel_id: str, include_drafts: bool, after: Key | None, size: int) -> Page[Card]:
        return await self.feed("", after, size)

    async def trending(self, after: Key | None, size: int) -> Page[Card]:
        return await self.feed("", after, size)

    async def search(self, query: str, after: Key | None, size: int) -> Page[Card]:
        return await self.feed("", after, size)

    async def comments(self, video_id: str, after: Key | None, size: int) -> Page[CommentCard] | None:
        return Page([], None) if video_id in self.cards else None

    def project(self, new: Card, waiter: VersionWaiter) -> None:
        """What the projector does: new row, then the notice."""
        self.cards[new.video_id], self.seen[new.video_id] = new, new.version
        waiter.wake(new.video_id)


def queries(views: FakeViews, waiter: VersionWaiter | None = None, max_wait_s: float = 2.0,
            time_left: float | None = None) -> VideoQueries:
    return VideoQueries(views, PageTokens(b"k"), waiter or VersionWaiter(), max_wait_s=max_wait_s,
                        time_left=lambda: time_left)


async def test_a_read_without_min_version_is_one_read_of_the_card() -> None:
    video = card(new_id())
    views = FakeViews(video)
    assert (await queries(views).get_video(video.video_id, 0, "")).card == video
    assert not views.version_read.is_set()


async def test_comments_without_min_version_read_no_version() -> None:
    video = card(new_id())
    views = FakeViews(video)
    answer = await queries(views).list_comments(video.video_id, 0, 0, "")
    assert not answer.stale and not views.version_read.is_set()
    with pytest.raises(NotFound):
        await queries(views).list_comments(new_id(), 0, 0, "")


async def test_a_draft_is_visible_to_its_owner_only() -> None:
    draft = card(new_id(), published=False)
    q = queries(FakeViews(draft))
    assert (await q.get_video(draft.video_id, 0, OWNER)).card == draft
    for viewer in (VIEWER, ""):
        with pytest.raises(NotFound):
            await q.get_video(draft.video_id, 0, viewer)


async def test_viewer_liked_says_whether_this_viewer_likes_it() -> None:
    video = card(new_id())
    views = FakeViews(video)
    views.likes.add((video.video_id, VIEWER))
    q = queries(views)
    assert (await q.get_video(video.video_id, 0, VIEWER)).viewer_liked
    assert not (await q.get_video(video.video_id, 0, OWNER)).viewer_liked
    assert not (await q.get_video(video.video_id, 0, "")).viewer_liked


async def test_min_version_waits_for_the_projection_then_answers_fresh() -> None:
    video, waiter = card(new_id(), version=1), VersionWaiter(poll_s=10)  # only a notice can wake it
    views = FakeViews(video)
    asking = asyncio.create_task(queries(views, waiter).get_video(video.video_id, 2, ""))
    await views.version_read.wait()  # the query has read version 1 and waits
    assert not asking.done()
    views.project(dataclasses.replace(video, version=2, title="new"), waiter)
    answer = await asyncio.wait_for(asking, 1.0)
    assert (answer.card.version, answer.card.title, answer.stale) == (2, "new", False)


async def test_min_version_not_reached_in_time_answers_stale() -> None:
    video = card(new_id(), version=1)
    started = time.monotonic()
    answer = await queries(FakeViews(video), max_wait_s=0.2).get_video(video.video_id, 5, "")
    assert answer.stale and answer.card.version == 1
    assert 0.2 <= time.monotonic() - started < 1.0


async def test_the_wait_ends_before_the_clients_deadline() -> None:
    video = card(new_id(), version=1)
    started = time.monotonic()
    answer = await queries(FakeViews(video), max_wait_s=5, time_left=0.4).get_video(video.video_id, 5, "")
    assert answer.stale and time.monotonic() - started < 0.4


async def test_an_unseen_video_is_not_found_with_min_version_saying_it_waited_and_without() -> None:
    q = queries(FakeViews(), max_wait_s=0.05)
    with pytest.raises(NotFound, match="after waiting for version 1"):
        await q.get_video(new_id(), 1, "")
    with pytest.raises(NotFound):
        await q.get_video(new_id(), 0, "")
    with pytest.raises(NotFound, match="after waiting for version 1"):
        await q.list_comments(new_id(), 1, 0, "")


async def test_a_deleted_video_is_not_found_even_with_min_version() -> None:
    video_id = new_id()
    views = FakeViews()
    views.seen[video_id] = 7  # a tombstone: seen, but no card
    with pytest.raises(NotFound):
        await queries(views, max_wait_s=0.05).get_video(video_id, 7, "")


async def test_next_page_token_continues_and_only_for_the_same_query() -> None:
    views = FakeViews(*(card(new_id()) for _ in range(5)))
    q = queries(views)
    first = await q.list_channel_videos(OWNER, False, 2, "")
    second = await q.list_channel_videos(OWNER, False, 2, first.next_page_token)
    assert [c.video_id for c in first.items + second.items] == list(views.cards)[:4]
    last = await q.list_channel_videos(OWNER, False, 2, second.next_page_token)
    assert len(last.items) == 1 and last.next_page_token == ""
    with pytest.raises(InvalidArgument):
        await q.list_channel_videos(OWNER, True, 2, first.next_page_token)
    with pytest.raises(InvalidArgument):
        await q.trending(2, first.next_page_token)


def test_wait_budget_keeps_time_to_answer() -> None:
    assert wait_budget(2.0, None) == 2.0
    assert wait_budget(2.0, 30.0) == 2.0
    assert 0 < wait_budget(2.0, 0.4) < 0.4
    assert wait_budget(2.0, 0.0) == 0.0
