"""Home, search and channel pages: assembled in parallel, degraded by part, failed by the core."""

from __future__ import annotations

import time

import grpc
import pytest

from bff.common.failures import DownstreamError
from bff.web.pages import ListPages
from mesh import errors
from tests.unit.bff.fake_services import Fakes
from tests.unit.bff.fakes import deadlines


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


def pages(fakes: Fakes, time_left: float | None = None, **budgets: float) -> ListPages:
    return ListPages(fakes.downstreams, deadlines(time_left, **budgets))


async def test_signed_out_home_is_trending_only(fakes: Fakes) -> None:
    owner = fakes.catalog.add_user("Ada")
    popular = fakes.catalog.add_video(owner, "Popular", view_count=100)
    quiet = fakes.catalog.add_video(owner, "Quiet", view_count=1)
    fakes.catalog.add_video(owner, "Draft", published=False)
    page = await pages(fakes).home(None, 0)
    assert [card.video_id for card in page.trending] == [popular, quiet]
    assert page.trending[0].owner_display_name == "Ada" and page.trending[0].published
    assert (list(page.following), page.unread_notification_count, page.signed_in) == ([], 0, False)
    assert list(page.degraded) == []
    assert fakes.notifications.calls == []  # nobody to count for


async def test_signed_in_home_has_followed_videos_and_unread_count(fakes: Fakes) -> None:
    followed, other, viewer = (fakes.catalog.add_user(name) for name in ("Ada", "Bob", "Cy"))
    theirs = fakes.catalog.add_video(followed, "Followed")
    fakes.catalog.add_video(other, "Not followed")
    fakes.catalog.follows.add((viewer, followed))
    fakes.notifications.inboxes.add(viewer, "Ada published")
    fakes.notifications.inboxes.add(viewer, "old", read=True)
    page = await pages(fakes).home(viewer, 5)
    assert [card.video_id for card in page.following] == [theirs]
    assert (page.unread_notification_count, page.signed_in, list(page.degraded)) == (1, True, [])
    assert {call.request.page_size for call in fakes.video_query.calls} == {5}


async def test_home_without_notification_service_answers_without_the_count(fakes: Fakes) -> None:
    owner = fakes.catalog.add_user()
    fakes.catalog.add_video(owner)
    fakes.notifications.down = True
    page = await pages(fakes).home(owner, 0)
    assert len(page.trending) == 1
    assert page.unread_notification_count == 0
    assert list(page.degraded) == ["notifications"]


async def test_home_with_failing_follow_list_degrades_following(fakes: Fakes) -> None:
    viewer = fakes.catalog.add_user()
    fakes.video_query.fail["ListVideos"] = grpc.StatusCode.DEADLINE_EXCEEDED
    fakes.notifications.down = True
    page = await pages(fakes).home(viewer, 0)
    assert list(page.degraded) == ["following", "notifications"]


async def test_signed_in_home_has_a_for_you_row_in_the_recommendations_order(fakes: Fakes) -> None:
    owner, viewer = fakes.catalog.add_user("Ada"), fakes.catalog.add_user("Cy")
    first, second = fakes.catalog.add_video(owner, "First"), fakes.catalog.add_video(owner, "Second")
    draft = fakes.catalog.add_video(owner, "Draft", published=False)
    fakes.recommendations.for_user[viewer] = [second, draft, "0af76519-16cd-43dd-8448-eb211c80319c", first]
    page = await pages(fakes).home(viewer, 0)
    # Drafts and videos video-query does not know (deleted meanwhile) are left out.
    assert [card.video_id for card in page.for_you] == [second, first]
    assert list(page.degraded) == []
    assert (await pages(fakes).home(None, 0)).for_you == []


async def test_home_without_the_recommendations_service_answers_and_names_it(fakes: Fakes) -> None:
    viewer = fakes.catalog.add_user()
    fakes.catalog.add_video(viewer)
    fakes.recommendations.down = True
    page = await pages(fakes).home(viewer, 0)
    assert len(page.trending) == 1 and list(page.for_you) == []
    assert list(page.degraded) == ["recommendations"]


async def test_home_without_video_query_is_unavailable(fakes: Fakes) -> None:
    fakes.video_query.down = True
    with pytest.raises(errors.Unavailable, match="trending videos: unavailable right now"):
        await pages(fakes).home(fakes.catalog.add_user(), 0)


async def test_home_parts_are_fetched_in_parallel(fakes: Fakes) -> None:
    viewer = fakes.catalog.add_user()
    for method in ("Trending", "ListVideos"):
        fakes.video_query.delay[method] = 0.2
    fakes.notifications.delay["UnreadCount"] = 0.2
    started = time.monotonic()
    await pages(fakes).home(viewer, 0)
    assert time.monotonic() - started < 0.4  # one delay, not three


async def test_a_slow_part_is_cut_at_its_own_deadline_and_degraded(fakes: Fakes) -> None:
    viewer = fakes.catalog.add_user()
    fakes.notifications.delay["UnreadCount"] = 5.0
    started = time.monotonic()
    page = await pages(fakes, part_s=0.05).home(viewer, 0)
    assert time.monotonic() - started < 1.0
    assert list(page.degraded) == ["notifications"]


async def test_every_call_gets_its_budget_within_the_callers_deadline(fakes: Fakes) -> None:
    viewer = fakes.catalog.add_user()
    await pages(fakes, read_s=3.0, part_s=0.2).home(viewer, 0)
    budgets = {call.method: call.timeout for fake in fakes.all() for call in fake.calls}
    assert budgets == {"Trending": 3.0, "ListVideos": 0.2, "UnreadCount": 0.2, "ListForUser": 0.2}
    fakes.video_query.calls.clear()
    fakes.notifications.calls.clear()
    await pages(fakes, time_left=0.5, read_s=3.0, part_s=1.0).home(viewer, 0)
    assert all(0 < call.timeout <= 0.5 for fake in fakes.all() for call in fake.calls)


async def test_core_failure_cancels_the_other_parts(fakes: Fakes) -> None:
    viewer = fakes.catalog.add_user()
    fakes.notifications.delay["UnreadCount"] = 0.5
    fakes.video_query.fail["Trending"] = grpc.StatusCode.UNAVAILABLE
    started = time.monotonic()
    with pytest.raises(errors.Unavailable):
        await pages(fakes).home(viewer, 0)
    assert time.monotonic() - started < 0.3  # the slow part was cancelled, not waited for


async def test_search_maps_q_to_the_query(fakes: Fakes) -> None:
    owner = fakes.catalog.add_user()
    match = fakes.catalog.add_video(owner, "Cooking pasta")
    fakes.catalog.add_video(owner, "Gardening")
    found = await pages(fakes).search("pasta", 10, "token")
    assert [card.video_id for card in found.videos] == [match]
    assert found.next_page_token == "next"
    request = fakes.video_query.calls[0].request
    assert (request.query, request.page_size, request.page_token) == ("pasta", 10, "token")


async def test_search_without_video_query_is_unavailable(fakes: Fakes) -> None:
    fakes.video_query.down = True
    with pytest.raises(errors.Unavailable, match="search"):
        await pages(fakes).search("pasta", 0, "")


async def test_channel_page_for_its_owner_includes_drafts(fakes: Fakes) -> None:
    owner, fan = fakes.catalog.add_user("Ada"), fakes.catalog.add_user("Bob")
    published = fakes.catalog.add_video(owner, "Out")
    draft = fakes.catalog.add_video(owner, "Draft", published=False)
    fakes.catalog.follows.add((fan, owner))
    as_fan = await pages(fakes).channel(fan, owner, 0, "")
    assert [card.video_id for card in as_fan.videos] == [published]
    assert (as_fan.channel.display_name, as_fan.channel.follower_count, as_fan.viewer_following) == ("Ada", 1, True)
    as_owner = await pages(fakes).channel(owner, owner, 0, "")
    assert [card.video_id for card in as_owner.videos] == [draft, published]


async def test_channel_of_unknown_user_is_not_found(fakes: Fakes) -> None:
    with pytest.raises(errors.NotFound):
        await pages(fakes).channel(None, "6d1c1d36-5d43-4e0f-9a39-2a4f7e9f3b11", 0, "")


async def test_channel_without_videos_part_degrades_but_bad_page_token_fails(fakes: Fakes) -> None:
    owner = fakes.catalog.add_user()
    fakes.video_query.down = True
    page = await pages(fakes).channel(None, owner, 0, "")
    assert (page.channel.user_id, list(page.videos), list(page.degraded)) == (owner, [], ["videos"])
    fakes.video_query.down = False
    fakes.video_query.fail["ListChannelVideos"] = grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(errors.InvalidArgument):
        await pages(fakes).channel(None, owner, 0, "forged")


async def test_channel_without_users_service_is_unavailable(fakes: Fakes) -> None:
    owner = fakes.catalog.add_user()
    fakes.users.down = True
    with pytest.raises(errors.Unavailable, match=r"the channel: .*users answered UNAVAILABLE"):
        await pages(fakes).channel(None, owner, 0, "")


def test_downstream_error_names_service_and_code() -> None:
    assert str(DownstreamError("users", grpc.StatusCode.INTERNAL, "boom")) == "users: INTERNAL: boom"
