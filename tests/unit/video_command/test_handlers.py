"""Command handlers over in-memory ports: request_id replays, events, versions, likes."""

from __future__ import annotations

import uuid

import pytest

from mesh.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from services.video_command import commands as c
from services.video_command.domain import VideoCreated, VideoLiked, VideoPublished, VideoUpdated, VideoViewed
from services.video_command.handlers import VideoCommands
from tests.unit.video_command.fakes import FakeStore, FakeUnitOfWork

OWNER, FAN = str(uuid.uuid4()), str(uuid.uuid4())


def rid() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def handlers(store: FakeStore) -> VideoCommands:
    return VideoCommands(lambda: FakeUnitOfWork(store))


async def create(handlers: VideoCommands, request_id: str | None = None) -> c.Created:
    return await handlers.create(c.CreateVideo(request_id or rid(), OWNER, "Cats", "", 60, (), ""))


async def published(handlers: VideoCommands) -> str:
    video_id = (await create(handlers)).video_id
    await handlers.publish(c.PublishVideo(rid(), OWNER, video_id))
    return video_id


async def test_create_replayed_with_the_same_request_id_returns_the_first_video(
        handlers: VideoCommands, store: FakeStore) -> None:
    request_id = rid()
    first, again = await create(handlers, request_id), await create(handlers, request_id)
    assert again == first and first.version == 1
    assert len(store.tables.videos) == 1
    assert [type(e) for e in store.events] == [VideoCreated]


async def test_like_replay_returns_the_first_result_even_after_other_changes(
        handlers: VideoCommands, store: FakeStore) -> None:
    video_id, request_id = await published(handlers), rid()
    first = await handlers.like(c.LikeVideo(request_id, FAN, video_id))
    await handlers.like(c.LikeVideo(rid(), OWNER, video_id))
    assert await handlers.like(c.LikeVideo(request_id, FAN, video_id)) == first == c.Likes(3, 1)
    assert sum(isinstance(e, VideoLiked) for e in store.events) == 2


async def test_request_id_reused_for_another_command_is_invalid(handlers: VideoCommands) -> None:
    video_id, request_id = await published(handlers), rid()
    await handlers.like(c.LikeVideo(request_id, FAN, video_id))
    with pytest.raises(InvalidArgument) as raised:
        await handlers.unlike(c.UnlikeVideo(request_id, FAN, video_id))
    assert raised.value.violations[0].field == "request_id"


async def test_request_id_reused_for_the_same_command_with_another_body_is_invalid(
        handlers: VideoCommands, store: FakeStore) -> None:
    request_id = rid()
    await create(handlers, request_id)
    with pytest.raises(InvalidArgument) as raised:
        await handlers.create(c.CreateVideo(request_id, OWNER, "Dogs", "", 60, (), ""))
    assert raised.value.violations[0].field == "request_id"
    assert len(store.tables.videos) == 1


async def test_a_view_replayed_for_another_video_is_invalid_and_counts_nothing(
        handlers: VideoCommands, store: FakeStore) -> None:
    first, second, request_id = await published(handlers), await published(handlers), rid()
    await handlers.record_view(c.RecordView(request_id, FAN, first))
    with pytest.raises(InvalidArgument):
        await handlers.record_view(c.RecordView(request_id, FAN, second))
    assert store.tables.videos[second].view_count == 0


async def test_a_failed_command_is_not_remembered_under_its_request_id(
        handlers: VideoCommands, store: FakeStore) -> None:
    video_id, request_id = (await create(handlers)).video_id, rid()
    with pytest.raises(PermissionDenied):
        await handlers.publish(c.PublishVideo(request_id, FAN, video_id))
    assert request_id not in store.tables.requests
    assert await handlers.publish(c.PublishVideo(request_id, OWNER, video_id)) == c.Versioned(2)


async def test_second_like_is_idempotent_and_bumps_nothing(handlers: VideoCommands, store: FakeStore) -> None:
    video_id = await published(handlers)
    first = await handlers.like(c.LikeVideo(rid(), FAN, video_id))
    second = await handlers.like(c.LikeVideo(rid(), FAN, video_id))
    assert first == second == c.Likes(version=3, like_count=1)
    assert sum(isinstance(e, VideoLiked) for e in store.events) == 1


async def test_unlike_without_like_is_idempotent(handlers: VideoCommands, store: FakeStore) -> None:
    video_id = await published(handlers)
    events_before = len(store.events)
    assert await handlers.unlike(c.UnlikeVideo(rid(), FAN, video_id)) == c.Likes(version=2, like_count=0)
    assert len(store.events) == events_before


async def test_every_change_bumps_the_version_by_one_and_its_event_says_so(
        handlers: VideoCommands, store: FakeStore) -> None:
    video_id = (await create(handlers)).video_id
    versions = [(await handlers.update(c.UpdateVideo(rid(), OWNER, video_id, 1, title="Dogs"))).version,
                (await handlers.publish(c.PublishVideo(rid(), OWNER, video_id, 2))).version,
                (await handlers.like(c.LikeVideo(rid(), FAN, video_id))).version,
                (await handlers.record_view(c.RecordView(rid(), "", video_id))).version,
                (await handlers.add_comment(c.AddComment(rid(), FAN, video_id, "nice"))).version,
                (await handlers.delete(c.DeleteVideo(rid(), OWNER, video_id, 6))).version]
    assert versions == [2, 3, 4, 5, 6, 7]
    assert [e.video.version for e in store.events] == [1, 2, 3, 4, 5, 6, 7]
    assert [type(e) for e in store.events][:3] == [VideoCreated, VideoUpdated, VideoPublished]


async def test_delete_takes_likes_and_comments_with_it(handlers: VideoCommands, store: FakeStore) -> None:
    video_id = await published(handlers)
    await handlers.like(c.LikeVideo(rid(), FAN, video_id))
    await handlers.add_comment(c.AddComment(rid(), FAN, video_id, "nice"))
    await handlers.delete(c.DeleteVideo(rid(), OWNER, video_id))
    assert not store.tables.likes and video_id not in store.tables.comments
    with pytest.raises(NotFound):
        await handlers.update(c.UpdateVideo(rid(), OWNER, video_id, 5, title="back"))


async def test_record_view_replay_counts_once(handlers: VideoCommands, store: FakeStore) -> None:
    video_id, request_id = await published(handlers), rid()
    first = await handlers.record_view(c.RecordView(request_id, FAN, video_id))
    assert await handlers.record_view(c.RecordView(request_id, FAN, video_id)) == first == c.Views(3, 1)
    assert sum(isinstance(e, VideoViewed) for e in store.events) == 1


async def test_record_view_of_a_draft_or_unknown_video_says_why(handlers: VideoCommands) -> None:
    video_id = (await create(handlers)).video_id
    with pytest.raises(FailedPrecondition):
        await handlers.record_view(c.RecordView(rid(), "", video_id))
    with pytest.raises(NotFound):
        await handlers.record_view(c.RecordView(rid(), "", str(uuid.uuid4())))


async def test_add_comment_returns_the_new_comment_id(handlers: VideoCommands, store: FakeStore) -> None:
    video_id = await published(handlers)
    result = await handlers.add_comment(c.AddComment(rid(), FAN, video_id, "nice"))
    assert [comment.id for comment in store.tables.comments[video_id]] == [result.comment_id]
