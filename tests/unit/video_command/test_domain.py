"""The video aggregate's rules, in memory."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from mesh.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from services.video_command.domain import (
    Comment,
    CommentAdded,
    State,
    Video,
    VideoDeleted,
    VideoLiked,
    VideoPublished,
    VideoUpdated,
    VideoViewed,
)

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
OWNER, OTHER = str(uuid.uuid4()), str(uuid.uuid4())


def draft() -> Video:
    return Video.create(str(uuid.uuid4()), OWNER, "Cats", "about cats", 60, ("cats",), "", NOW).video


def published() -> Video:
    event = draft().publish(OWNER, 0, NOW)
    assert event is not None
    return event.video


def test_created_video_is_a_draft_at_version_1_owned_by_the_actor() -> None:
    video = draft()
    assert (video.state, video.version, video.owner_id) == (State.DRAFT, 1, OWNER)


def test_update_bumps_the_version_by_one_and_the_event_carries_the_full_state() -> None:
    event = draft().update(OWNER, 1, title="Dogs")
    assert isinstance(event, VideoUpdated)
    assert (event.video.version, event.video.title, event.video.description) == (2, "Dogs", "about cats")


def test_update_by_someone_else_is_permission_denied() -> None:
    with pytest.raises(PermissionDenied):
        draft().update(OTHER, 1, title="Mine now")


def test_update_with_a_stale_version_is_a_conflict() -> None:
    video = published()  # version 2
    with pytest.raises(Conflict):
        video.update(OWNER, 1, title="Late")


def test_update_that_sets_the_current_values_changes_nothing() -> None:
    assert draft().update(OWNER, 1, title="Cats", tags=("cats",)) is None


def test_update_with_nothing_to_change_is_invalid() -> None:
    with pytest.raises(InvalidArgument):
        draft().update(OWNER, 1)


def test_publish_twice_changes_nothing_the_second_time() -> None:
    first = draft().publish(OWNER, 1, NOW)
    assert isinstance(first, VideoPublished) and first.video.version == 2
    assert first.video.publish_time == NOW
    assert first.video.publish(OWNER, 2, NOW) is None
    assert first.video.publish(OWNER, 1, NOW) is None  # the effect is in place, whatever was read


def test_publish_by_someone_else_is_permission_denied() -> None:
    with pytest.raises(PermissionDenied):
        draft().publish(OTHER, 0, NOW)


def test_publish_with_a_stale_version_is_a_conflict() -> None:
    video = draft().update(OWNER, 1, title="v2")
    assert video is not None
    with pytest.raises(Conflict):
        video.video.publish(OWNER, 1, NOW)


def test_delete_then_update_publish_like_view_or_comment_is_not_found() -> None:
    event = published().delete(OWNER, 0)
    assert isinstance(event, VideoDeleted)
    gone = event.video
    comment = Comment(str(uuid.uuid4()), OTHER, "hi", NOW)
    for attempt in (lambda: gone.update(OWNER, gone.version, title="x"), lambda: gone.publish(OWNER, 0, NOW),
                    lambda: gone.like(OTHER, False), lambda: gone.unlike(OTHER, True), lambda: gone.view(""),
                    lambda: gone.add_comment(comment)):
        with pytest.raises(NotFound):
            attempt()


def test_delete_twice_changes_nothing_but_still_needs_the_owner() -> None:
    event = draft().delete(OWNER, 1)
    assert event is not None and event.video.version == 2
    assert event.video.delete(OWNER, 0) is None
    with pytest.raises(PermissionDenied):
        event.video.delete(OTHER, 0)


def test_delete_by_someone_else_is_permission_denied() -> None:
    with pytest.raises(PermissionDenied):
        draft().delete(OTHER, 0)


def test_like_counts_once_per_user() -> None:
    video = published()
    event = video.like(OTHER, already_liked=False)
    assert isinstance(event, VideoLiked)
    assert (event.video.like_count, event.video.version, event.user_id) == (1, video.version + 1, OTHER)
    assert event.video.like(OTHER, already_liked=True) is None


def test_unlike_without_a_like_changes_nothing() -> None:
    assert published().unlike(OTHER, liked=False) is None


def test_unlike_removes_the_like_and_bumps_the_version() -> None:
    liked = published().like(OTHER, False)
    assert liked is not None
    event = liked.video.unlike(OTHER, liked=True)
    assert event is not None and (event.video.like_count, event.video.version) == (0, liked.video.version + 1)


def test_a_draft_cannot_be_liked_viewed_or_commented() -> None:
    video = draft()
    comment = Comment(str(uuid.uuid4()), OTHER, "hi", NOW)
    for attempt in (lambda: video.like(OTHER, False), lambda: video.view(""), lambda: video.add_comment(comment)):
        with pytest.raises(FailedPrecondition):
            attempt()


def test_a_view_counts_one_and_bumps_the_version() -> None:
    video = published()
    event = video.view("")
    assert isinstance(event, VideoViewed)
    assert (event.video.view_count, event.video.version, event.viewer_id) == (1, video.version + 1, "")


def test_a_comment_counts_and_bumps_the_version() -> None:
    video = published()
    event = video.add_comment(Comment(str(uuid.uuid4()), OTHER, "nice", NOW))
    assert isinstance(event, CommentAdded)
    assert (event.video.comment_count, event.video.version) == (1, video.version + 1)
