"""mobile-bff screens: compact cards, cursor paging, the viewer's like, error codes."""

from __future__ import annotations

import grpc
import pytest
from vidmesh.mobilebff.v1 import mobile_bff_service_pb2 as mobile

from bff.mobile.screens import Screens
from mesh import errors
from tests.unit.bff.fake_services import Fakes
from tests.unit.bff.fakes import deadlines

ACTOR = "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e"


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


def screens(fakes: Fakes, time_left: float | None = None) -> Screens:
    return Screens(fakes.downstreams, deadlines(time_left))


async def test_feed_is_compact_cards_newest_first(fakes: Fakes) -> None:
    ada = fakes.catalog.add_user("Ada")
    older = fakes.catalog.add_video(ada, "Older", view_count=5, media_url="https://cdn.example/o.jpg")
    newer = fakes.catalog.add_video(ada, "Newer", duration_seconds=42)
    fakes.catalog.add_video(ada, "Draft", published=False)
    feed = await screens(fakes).feed(0, "")
    assert [video.video_id for video in feed.videos] == [newer, older]
    assert feed.videos[1] == mobile.CompactVideo(video_id=older, title="Older", media_url="https://cdn.example/o.jpg",
                                                 uploader_name="Ada", view_count=5, duration_seconds=60)


async def test_feed_passes_the_cursor_on_and_a_forged_one_is_invalid(fakes: Fakes) -> None:
    await screens(fakes).feed(10, "cursor")
    request = fakes.video_query.calls[0].request
    assert (request.page_size, request.page_token, request.followed_by_user_id) == (10, "cursor", "")
    fakes.video_query.fail["ListVideos"] = grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(errors.InvalidArgument):
        await screens(fakes).feed(10, "forged")


async def test_feed_without_video_query_is_unavailable(fakes: Fakes) -> None:
    fakes.video_query.down = True
    with pytest.raises(errors.Unavailable, match="the feed"):
        await screens(fakes).feed(0, "")


async def test_video_has_the_viewers_like_and_reads_its_own_write(fakes: Fakes) -> None:
    ada = fakes.catalog.add_user("Ada")
    video = fakes.catalog.add_video(ada, "Pasta", like_count=4)
    fakes.catalog.likes.add((video, ACTOR))
    shown = await screens(fakes).video(ACTOR, video, 2)
    assert (shown.video.title, shown.like_count, shown.liked) == ("Pasta", 4, True)
    sent = fakes.video_query.calls[0].request
    assert (sent.viewer_id, sent.min_version) == (ACTOR, 2)
    assert not (await screens(fakes).video(None, video, 0)).liked


async def test_unknown_video_is_not_found(fakes: Fakes) -> None:
    with pytest.raises(errors.NotFound):
        await screens(fakes).video(None, "6d1c1d36-5d43-4e0f-9a39-2a4f7e9f3b11", 0)


async def test_notifications_are_compact_rows_of_the_signed_in_user(fakes: Fakes) -> None:
    fakes.notifications.inboxes.add(ACTOR, "Ada followed you")
    page = await screens(fakes).notifications(ACTOR, 0, "")
    assert [(row.text, row.read) for row in page.notifications] == [("Ada followed you", False)]
    assert page.notifications[0].HasField("create_time")
    assert fakes.notifications.calls[0].request.user_id == ACTOR


async def test_like_acts_as_the_user_and_returns_the_version(fakes: Fakes) -> None:
    liked = await screens(fakes).like(ACTOR, mobile.LikeVideoRequest(video_id="6d1c1d36-5d43-4e0f-9a39-2a4f7e9f3b11"))
    assert (liked.version, liked.like_count) == (2, 1)
    assert fakes.video_command.calls[0].request.actor_id == ACTOR


async def test_calls_stay_within_the_callers_deadline(fakes: Fakes) -> None:
    await screens(fakes, time_left=0.25).feed(0, "")
    assert 0 < fakes.video_query.calls[0].timeout <= 0.25
