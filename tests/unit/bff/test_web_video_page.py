"""The web video page: video, uploader, comments, related and viewer state, degraded by part."""

from __future__ import annotations

import grpc
import pytest

from bff.web.video_page import COMMENTS_PAGE_SIZE, RELATED_SIZE, VideoPage
from mesh import errors
from tests.unit.bff.fake_services import Fakes
from tests.unit.bff.fakes import deadlines

MISSING = "6d1c1d36-5d43-4e0f-9a39-2a4f7e9f3b11"


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def video(fakes: Fakes) -> str:
    """Ada's video, with two comments and two other videos on her channel."""
    ada, bob = fakes.catalog.add_user("Ada"), fakes.catalog.add_user("Bob")
    video_id = fakes.catalog.add_video(ada, "Pasta", description="How to cook it", tags=["food"], like_count=3)
    fakes.catalog.add_comment(video_id, bob, "Tasty")
    fakes.catalog.add_comment(video_id, ada, "Thanks")
    fakes.catalog.add_video(ada, "Pizza")
    fakes.catalog.add_video(ada, "Soup")
    fakes.catalog.add_video(bob, "Not Ada's")
    return video_id


def page(fakes: Fakes, time_left: float | None = None) -> VideoPage:
    return VideoPage(fakes.downstreams, deadlines(time_left))


def owner_of(fakes: Fakes, video_id: str) -> str:
    return fakes.catalog.videos[video_id].owner_id


async def test_anonymous_page_has_every_part(fakes: Fakes, video: str) -> None:
    shown = await page(fakes).page(None, video, 0)
    assert (shown.video.card.title, shown.video.description, shown.video.version) == ("Pasta", "How to cook it", 2)
    assert list(shown.video.card.tags) == ["food"] and shown.video.card.like_count == 3
    assert (shown.uploader.display_name, shown.uploader.user_id) == ("Ada", owner_of(fakes, video))
    assert [c.body for c in shown.comments] == ["Tasty", "Thanks"]
    assert shown.comments[0].author_display_name == "Bob"
    assert sorted(card.title for card in shown.related) == ["Pizza", "Soup"]  # the channel's others, not itself
    assert shown.viewer == type(shown.viewer)()  # signed out: no viewer state at all
    assert (shown.stale, list(shown.degraded)) == (False, [])


async def test_viewer_state_shows_like_follow_and_ownership(fakes: Fakes, video: str) -> None:
    fan, ada = fakes.catalog.add_user("Fan"), owner_of(fakes, video)
    fakes.catalog.likes.add((video, fan))
    fakes.catalog.follows.add((fan, ada))
    as_fan = await page(fakes).page(fan, video, 0)
    assert (as_fan.viewer.signed_in, as_fan.viewer.liked, as_fan.viewer.following, as_fan.viewer.owner) == (
        True, True, True, False)
    assert as_fan.uploader.follower_count == 1
    as_owner = await page(fakes).page(ada, video, 0)
    assert (as_owner.viewer.liked, as_owner.viewer.following, as_owner.viewer.owner) == (False, False, True)


async def test_viewer_id_is_copied_into_the_domain_requests(fakes: Fakes, video: str) -> None:
    fan = fakes.catalog.add_user()
    await page(fakes).page(fan, video, 0)
    get_video = next(call for call in fakes.video_query.calls if call.method == "GetVideo")
    assert get_video.request.viewer_id == fan
    assert fakes.users.calls[0].request.viewer_id == fan


async def test_draft_is_shown_to_its_owner_only(fakes: Fakes) -> None:
    ada = fakes.catalog.add_user("Ada")
    draft = fakes.catalog.add_video(ada, "Draft", published=False)
    assert not (await page(fakes).page(ada, draft, 0)).video.card.published
    with pytest.raises(errors.NotFound):
        await page(fakes).page(fakes.catalog.add_user(), draft, 0)


async def test_min_version_reaches_video_and_comments_and_stale_is_reported(fakes: Fakes, video: str) -> None:
    shown = await page(fakes).page(None, video, 7)
    assert shown.stale  # the fake's read model is at version 2
    asked = {call.method: call.request.min_version for call in fakes.video_query.calls
             if call.method in ("GetVideo", "ListComments")}
    assert asked == {"GetVideo": 7, "ListComments": 7}


async def test_unknown_video_is_not_found(fakes: Fakes) -> None:
    with pytest.raises(errors.NotFound):
        await page(fakes).page(None, MISSING, 0)


async def test_without_video_query_the_page_is_unavailable(fakes: Fakes, video: str) -> None:
    fakes.video_query.fail["GetVideo"] = grpc.StatusCode.UNAVAILABLE
    with pytest.raises(errors.Unavailable, match="the video: unavailable right now"):
        await page(fakes).page(None, video, 0)


async def test_without_users_the_page_has_no_uploader(fakes: Fakes, video: str) -> None:
    fakes.users.down = True
    shown = await page(fakes).page(None, video, 0)
    assert not shown.HasField("uploader")
    assert len(shown.comments) == 2 and shown.video.card.title == "Pasta"
    assert list(shown.degraded) == ["uploader"]


async def test_without_users_a_signed_in_viewer_also_lacks_the_follow_state(fakes: Fakes, video: str) -> None:
    fakes.users.down = True
    shown = await page(fakes).page(fakes.catalog.add_user(), video, 0)
    assert list(shown.degraded) == ["uploader", "viewer"]
    assert shown.viewer.signed_in


async def test_failing_comments_and_related_degrade_only_themselves(fakes: Fakes, video: str) -> None:
    fakes.video_query.fail["ListComments"] = grpc.StatusCode.DEADLINE_EXCEEDED
    fakes.video_query.fail["ListChannelVideos"] = grpc.StatusCode.UNAVAILABLE
    shown = await page(fakes).page(None, video, 0)
    assert (list(shown.comments), list(shown.related)) == ([], [])
    assert shown.uploader.display_name == "Ada"
    assert list(shown.degraded) == ["comments", "related"]


def titled(fakes: Fakes, title: str) -> str:
    return next(video_id for video_id, card in fakes.catalog.videos.items() if card.title == title)


async def test_related_lists_co_liked_videos_first_then_the_channels_without_repeats(fakes: Fakes,
                                                                                    video: str) -> None:
    fakes.recommendations.related[video] = [titled(fakes, "Not Ada's"), titled(fakes, "Pizza")]
    shown = await page(fakes).page(None, video, 0)
    assert [card.title for card in shown.related][:2] == ["Not Ada's", "Pizza"]
    assert sorted(card.title for card in shown.related) == ["Not Ada's", "Pizza", "Soup"]
    assert list(shown.degraded) == []


async def test_without_the_recommendations_service_related_is_the_channel_and_names_it(fakes: Fakes,
                                                                                     video: str) -> None:
    fakes.recommendations.down = True
    shown = await page(fakes).page(None, video, 0)
    assert sorted(card.title for card in shown.related) == ["Pizza", "Soup"]
    assert list(shown.degraded) == ["recommendations"]


async def test_related_is_at_most_a_row(fakes: Fakes, video: str) -> None:
    for number in range(RELATED_SIZE + 3):
        fakes.catalog.add_video(owner_of(fakes, video), f"More {number}")
    assert len((await page(fakes).page(None, video, 0)).related) == RELATED_SIZE


async def test_part_deadlines_never_exceed_the_callers(fakes: Fakes, video: str) -> None:
    await page(fakes, time_left=0.3).page(None, video, 5)
    timeouts = [call.timeout for fake in fakes.all() for call in fake.calls]
    assert len(timeouts) == 5 and all(0 < timeout <= 0.3 for timeout in timeouts)


async def test_comments_after_the_first_page_follow_the_token(fakes: Fakes, video: str) -> None:
    for number in range(COMMENTS_PAGE_SIZE + 3):  # the fixture added two already
        fakes.catalog.add_comment(video, owner_of(fakes, video), f"More {number}")
    first = await page(fakes).page(None, video, 0)
    assert len(first.comments) == COMMENTS_PAGE_SIZE and first.comments_next_page_token
    rest = await page(fakes).comments(video, 0, first.comments_next_page_token)
    assert [c.body for c in rest.comments] == [f"More {number}" for number in range(COMMENTS_PAGE_SIZE - 2, 23)]
    assert rest.next_page_token == ""
    assert rest.comments[0].author_display_name == "Ada"


async def test_comments_page_size_is_passed_down(fakes: Fakes, video: str) -> None:
    shown = await page(fakes).comments(video, 1, "")
    assert [c.body for c in shown.comments] == ["Tasty"] and shown.next_page_token


async def test_comments_without_video_query_are_unavailable(fakes: Fakes, video: str) -> None:
    fakes.video_query.fail["ListComments"] = grpc.StatusCode.UNAVAILABLE
    with pytest.raises(errors.Unavailable, match="the comments: unavailable right now"):
        await page(fakes).comments(video, 0, "")
