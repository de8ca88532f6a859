"""Projection rules: version gating, order independence, counts set (not counted), deletion."""

from __future__ import annotations

import random
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.users.v1 import events_pb2 as users_events
from vidmesh.video.v1 import events_pb2 as ev

from tests.unit.video_query.fakes import FakeReadModel, apply, at, envelope, new_id

OWNER, ALICE, BOB = new_id(), new_id(), new_id()


def _stamp(minutes: float) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at(minutes))
    return stamp


def video_history(video_id: str, comment_id: str) -> list[EventEnvelope]:
    """A video's life in order: v1 created ... v9 viewed again."""
    o, v = OWNER, video_id
    history: list[Any] = [
        ev.VideoCreated(video_id=v, owner_id=o, version=1, title="first", description="d", duration_seconds=61,
                        tags=["a"], media_url="https://m/1", create_time=_stamp(0)),
        ev.VideoUpdated(video_id=v, owner_id=o, version=2, title="Cats", description="cats playing", tags=["cats"]),
        ev.VideoPublished(video_id=v, owner_id=o, version=3, title="Cats", publish_time=_stamp(5)),
        ev.VideoLiked(video_id=v, owner_id=o, version=4, user_id=ALICE, like_count=1, title="Cats"),
        ev.VideoViewed(video_id=v, owner_id=o, version=5, view_count=1),
        ev.CommentAdded(video_id=v, owner_id=o, version=6, comment_id=comment_id, author_id=BOB, body="nice",
                        comment_count=1, create_time=_stamp(7), title="Cats"),
        ev.VideoLiked(video_id=v, owner_id=o, version=7, user_id=BOB, like_count=2, title="Cats"),
        ev.VideoUnliked(video_id=v, owner_id=o, version=8, user_id=ALICE, like_count=1),
        ev.VideoViewed(video_id=v, owner_id=o, version=9, view_count=2),
    ]
    return [envelope(e, v, e.version) for e in history]


async def project(envelopes: list[EventEnvelope]) -> FakeReadModel:
    model = FakeReadModel()
    for env in envelopes:
        await apply(model, env)
    return model


async def test_in_order_history_gives_the_expected_card() -> None:
    video_id, comment_id = new_id(), new_id()
    model = await project(video_history(video_id, comment_id))
    row = model.videos[video_id]
    assert (row.version, row.title, row.description, row.tags) == (9, "Cats", "cats playing", ["cats"])
    assert (row.created, row.published, row.duration_seconds, row.media_url) == (True, True, 61, "https://m/1")
    assert (row.view_count, row.like_count, row.comment_count) == (2, 1, 1)
    assert row.create_time == at(0) and row.publish_time == at(5)
    assert {user: edge.liked for (_, user), edge in model.likes.items()} == {ALICE: False, BOB: True}
    assert [c.body for c in model.comments.values()] == ["nice"]


async def test_any_order_of_the_events_gives_the_same_rows() -> None:
    video_id, comment_id = new_id(), new_id()
    history = video_history(video_id, comment_id)
    expected = (await project(history)).snapshot()
    shuffler = random.Random(7)
    orders = [list(reversed(history))] + [shuffler.sample(history, len(history)) for _ in range(200)]
    for order in orders:
        assert (await project(order)).snapshot() == expected, [e.aggregate_version for e in order]


async def test_redelivered_events_change_nothing() -> None:
    video_id, comment_id = new_id(), new_id()
    history = video_history(video_id, comment_id)
    model = await project(history)
    before, saves = model.snapshot(), model.saves
    for env in random.Random(3).sample(history * 2, len(history) * 2):
        await apply(model, env)
    assert model.snapshot() == before
    assert model.saves == saves  # not even rewritten with the same values


async def test_an_older_update_does_not_overwrite_a_newer_one() -> None:
    video_id = new_id()
    newer = ev.VideoUpdated(video_id=video_id, owner_id=OWNER, version=3, title="newer")
    older = ev.VideoUpdated(video_id=video_id, owner_id=OWNER, version=2, title="older")
    model = await project([envelope(newer, video_id, 3), envelope(older, video_id, 2)])
    assert (model.videos[video_id].title, model.videos[video_id].version) == ("newer", 3)


async def test_an_older_event_still_sets_what_no_newer_event_set() -> None:
    video_id, comment_id = new_id(), new_id()
    history = video_history(video_id, comment_id)
    late_comment = history.pop(5)  # v6 arrives after v9
    model = await project([*history, late_comment])
    row = model.videos[video_id]
    assert (row.version, row.comment_count) == (9, 1)
    assert comment_id in model.comments


async def test_counts_are_set_to_the_event_totals_not_incremented() -> None:
    video_id = new_id()
    viewed = [ev.VideoViewed(video_id=video_id, owner_id=OWNER, version=n, view_count=total)
              for n, total in ((2, 40), (3, 41), (4, 42))]
    model = await project([envelope(e, video_id, e.version) for e in viewed])
    assert model.videos[video_id].view_count == 42


async def test_deleted_video_loses_likes_and_comments_and_ignores_late_events() -> None:
    video_id, comment_id = new_id(), new_id()
    history = video_history(video_id, comment_id)
    deleted = envelope(ev.VideoDeleted(video_id=video_id, owner_id=OWNER, version=10), video_id, 10)
    expected = (await project([*history, deleted])).snapshot()
    assert expected["videos"][video_id].deleted and expected["videos"][video_id].title == ""
    assert expected["likes"] == {} and expected["comments"] == {}
    for order in (list(reversed(history)), random.Random(5).sample(history, len(history))):
        assert (await project([order[0], deleted, *order[1:]])).snapshot() == expected


async def test_a_video_without_its_created_event_is_not_created() -> None:
    video_id = new_id()
    liked = ev.VideoLiked(video_id=video_id, owner_id=OWNER, version=4, user_id=ALICE, like_count=1)
    model = await project([envelope(liked, video_id, 4)])
    assert not model.videos[video_id].created and model.videos[video_id].like_count == 1


async def test_user_names_are_kept_whichever_arrives_first() -> None:
    video_id = new_id()
    created = envelope(ev.VideoCreated(video_id=video_id, owner_id=OWNER, version=1, title="t"), video_id, 1)
    registered = envelope(users_events.UserRegistered(user_id=OWNER, email="o@example.com", display_name="Olga"),
                          OWNER)
    for order in ([created, registered], [registered, created]):
        model = await project(order)
        assert model.users == {OWNER: "Olga"} and model.videos[video_id].created


async def test_the_newest_follow_change_wins_in_any_order() -> None:
    follow = users_events.UserFollowed(follower_id=ALICE, channel_id=OWNER, follower_display_name="A",
                                       follower_count=1)
    unfollow = users_events.UserUnfollowed(follower_id=ALICE, channel_id=OWNER, follower_count=0)
    events = [envelope(follow, OWNER, at=at(1)), envelope(unfollow, OWNER, at=at(2)),
              envelope(follow, OWNER, at=at(3)), envelope(unfollow, OWNER, at=at(4))]
    for order in (events, list(reversed(events)), [events[3], events[0], events[2], events[1]]):
        model = await project(order)
        assert not model.follows[(ALICE, OWNER)].following
    model = await project(events[:3])
    assert model.follows[(ALICE, OWNER)].following
