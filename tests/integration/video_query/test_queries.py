"""VideoQueryService over gRPC, fed by real envelopes on Kafka, projected into real Postgres."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime

import grpc
import pytest
from vidmesh.video.v1 import video_query_service_pb2 as pb

from tests.integration.video_query import events as ev
from tests.integration.video_query.conftest import Feed, Instance, Publisher, eventually, new_id

FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)  # publish time that tops trending in this database


def _word() -> str:
    return "".join(random.choices(string.ascii_lowercase, k=12))


async def test_a_published_video_shows_with_its_counts_and_the_viewers_like(
        instance: Instance, publisher: Publisher, feed: Feed) -> None:
    video_id, owner, viewer = new_id(), new_id(), new_id()
    version = publisher.video(feed.video_topic,
                              ev.created(video_id, owner, title="Counting"), ev.published(video_id, owner),
                              ev.liked(video_id, owner, 3, viewer, 1), ev.viewed(video_id, owner, 4, 1),
                              ev.viewed(video_id, owner, 5, 2),
                              ev.commented(video_id, owner, 6, new_id(), viewer, "hi", 1))
    got = await instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=version, viewer_id=viewer),
                                       timeout=5)
    card = got.video
    assert (card.version, card.title, card.state, got.stale) == (6, "Counting", pb.VIDEO_STATE_PUBLISHED, False)
    assert (card.view_count, card.like_count, card.comment_count, got.viewer_liked) == (2, 1, 1, True)
    assert card.duration_seconds == 90 and list(card.tags) == ["misc"] and card.publish_time.seconds > 0
    anonymous = await instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id), timeout=5)
    assert not anonymous.viewer_liked


async def test_the_uploaders_name_shows_whether_they_registered_before_or_after(
        instance: Instance, publisher: Publisher, feed: Feed) -> None:
    early, late = new_id(), new_id()
    publisher.register(feed.users_topic, early, "Early Bird")
    videos = {}
    for owner in (early, late):
        videos[owner] = new_id()
        publisher.video(feed.video_topic, ev.created(videos[owner], owner),
                        ev.published(videos[owner], owner))
    publisher.register(feed.users_topic, late, "Late Comer")
    for owner, name in ((early, "Early Bird"), (late, "Late Comer")):
        request = pb.GetVideoRequest(video_id=videos[owner], min_version=2)

        async def get(request: pb.GetVideoRequest = request) -> pb.GetVideoResponse:
            return await instance.stub.GetVideo(request, timeout=5)

        def named(got: pb.GetVideoResponse, name: str = name) -> bool:
            return got.video.owner_display_name == name

        got = await eventually(get, named)
        assert got.video.owner_id == owner


async def test_a_draft_is_shown_to_its_owner_only(
        instance: Instance, publisher: Publisher, feed: Feed) -> None:
    video_id, owner = new_id(), new_id()
    publisher.video(feed.video_topic, ev.created(video_id, owner))
    mine = await instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=1, viewer_id=owner),
                                        timeout=5)
    assert mine.video.state == pb.VIDEO_STATE_DRAFT and not mine.video.HasField("publish_time")
    for viewer in ("", new_id()):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, viewer_id=viewer), timeout=5)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    public = await instance.stub.ListChannelVideos(pb.ListChannelVideosRequest(channel_id=owner), timeout=5)
    drafts = await instance.stub.ListChannelVideos(
        pb.ListChannelVideosRequest(channel_id=owner, include_drafts=True), timeout=5)
    listed = await instance.stub.ListVideos(pb.ListVideosRequest(page_size=100), timeout=5)
    assert [v.video_id for v in public.videos] == [] and [v.video_id for v in drafts.videos] == [video_id]
    assert video_id not in {v.video_id for v in listed.videos}


async def test_a_deleted_video_disappears_with_its_comments(
        instance: Instance, publisher: Publisher, feed: Feed) -> None:
    video_id, owner, word = new_id(), new_id(), _word()
    publisher.video(feed.video_topic, ev.created(video_id, owner, title=word),
                    ev.published(video_id, owner), ev.commented(video_id, owner, 3, new_id(), owner, "x", 1))
    await instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=3), timeout=5)
    publisher.video(feed.video_topic, ev.deleted(video_id, owner, 4))
    for call in (lambda: instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=4), timeout=5),
                 lambda: instance.stub.ListComments(pb.ListCommentsRequest(video_id=video_id), timeout=5)):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call()
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    found = await instance.stub.SearchVideos(pb.SearchVideosRequest(query=word), timeout=5)
    channel = await instance.stub.ListChannelVideos(
        pb.ListChannelVideosRequest(channel_id=owner, include_drafts=True), timeout=5)
    assert list(found.videos) == [] and list(channel.videos) == []


async def test_liked_follows_the_viewers_like_and_unlike(
        instance: Instance, publisher: Publisher, feed: Feed) -> None:
    video_id, owner, viewer = new_id(), new_id(), new_id()
    publisher.video(feed.video_topic, ev.created(video_id, owner), ev.published(video_id, owner),
                    ev.liked(video_id, owner, 3, viewer, 1), ev.unliked(video_id, owner, 4, viewer, 0))
    got = await instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=4, viewer_id=viewer),
                                       timeout=5)
    assert (got.viewer_liked, got.video.like_count) == (False, 0)


async def test_the_followed_feed_holds_only_followed_channels(
        instance: Instance, publisher: Publisher, feed: Feed) -> None:
    follower, followed, other = new_id(), new_id(), new_id()
    videos = {owner: new_id() for owner in (followed, other)}
    for owner, video_id in videos.items():
        publisher.video(feed.video_topic, ev.created(video_id, owner),
                        ev.published(video_id, owner))
    publisher.send(feed.users_topic, ev.followed(follower, followed), aggregate_id=followed)
    request = pb.ListVideosRequest(followed_by_user_id=follower)
    listed = await eventually(lambda: instance.stub.ListVideos(request, timeout=5), lambda got: len(got.videos) > 0)
    assert [v.video_id for v in listed.videos] == [videos[followed]]
    publisher.send(feed.users_topic, ev.unfollowed(follower, followed), aggregate_id=followed)
    await eventually(lambda: instance.stub.ListVideos(request, timeout=5), lambda got: len(got.videos) == 0)


async def test_search_finds_a_video_by_a_word_of_its_title_and_pages(
        instance: Instance, publisher: Publisher, feed: Feed) -> None:
    word, owner = _word(), new_id()
    ids = [new_id() for _ in range(3)]
    for video_id in ids:
        publisher.video(feed.video_topic, ev.created(video_id, owner, title=f"Learning {word} quickly"),
                        ev.published(video_id, owner))
    draft = new_id()
    publisher.video(feed.video_topic, ev.created(draft, owner, title=word))
    for video_id in ids:
        await instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=2), timeout=5)
    first = await instance.stub.SearchVideos(pb.SearchVideosRequest(query=word, page_size=2), timeout=5)
    second = await instance.stub.SearchVideos(
        pb.SearchVideosRequest(query=word, page_size=2, page_token=first.next_page_token), timeout=5)
    assert len(first.videos) == 2 and first.next_page_token and second.next_page_token == ""
    assert sorted(v.video_id for v in [*first.videos, *second.videos]) == sorted(ids)
    none = await instance.stub.SearchVideos(pb.SearchVideosRequest(query=_word()), timeout=5)
    assert list(none.videos) == []


async def test_trending_ranks_by_likes_and_views(
        instance: Instance, publisher: Publisher, feed: Feed) -> None:
    owner, likes = new_id(), {new_id(): 1, new_id(): 50, new_id(): 10}
    for video_id, count in likes.items():
        publisher.video(feed.video_topic, ev.created(video_id, owner),
                        ev.published(video_id, owner, when=FAR_FUTURE),
                        ev.liked(video_id, owner, 3, new_id(), count))
        await instance.stub.GetVideo(pb.GetVideoRequest(video_id=video_id, min_version=3), timeout=5)
    first = await instance.stub.Trending(pb.TrendingRequest(page_size=2), timeout=5)
    second = await instance.stub.Trending(pb.TrendingRequest(page_size=2, page_token=first.next_page_token),
                                          timeout=5)
    ranked = [v.video_id for v in [*first.videos, *second.videos]][:3]
    assert ranked == sorted(likes, key=lambda v: -likes[v])
