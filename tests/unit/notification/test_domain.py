"""The notification rules in memory: who is told, what it says, which ids it gets."""

from __future__ import annotations

import uuid

import pytest

from mesh.errors import InvalidArgument
from services.notification import domain
from services.notification.domain import Kind, MarkRead

OWNER, ALICE, BOB = (str(uuid.uuid4()) for _ in range(3))
VIDEO, EVENT = str(uuid.uuid4()), str(uuid.uuid4())


def published(followers: list[str], event_id: str = EVENT) -> list[domain.NewNotification]:
    return domain.video_published(event_id, video_id=VIDEO, owner_id=OWNER, owner_name="Ada", title="Cats",
                                  followers=followers)


def test_published_video_notifies_each_follower_once() -> None:
    notifications = published([ALICE, BOB, ALICE])
    assert [n.recipient_id for n in notifications] == [ALICE, BOB]
    assert {n.kind for n in notifications} == {Kind.VIDEO_PUBLISHED}
    assert all(n.actor_id == OWNER and n.video_id == VIDEO and n.source_event_id == EVENT for n in notifications)
    assert notifications[0].text == "Ada published a new video: Cats"


def test_published_video_never_notifies_the_uploader() -> None:
    assert [n.recipient_id for n in published([OWNER, ALICE])] == [ALICE]


def test_published_video_without_followers_notifies_nobody() -> None:
    assert published([]) == []


def test_comment_notifies_the_owner() -> None:
    [notification] = domain.comment_added(EVENT, video_id=VIDEO, owner_id=OWNER, author_id=ALICE,
                                          author_name="Alice", title="Cats")
    assert (notification.recipient_id, notification.kind, notification.actor_id) == (OWNER, Kind.COMMENT_ADDED, ALICE)
    assert notification.text == "Alice commented on your video: Cats"


def test_owner_is_not_notified_of_their_own_comment() -> None:
    assert domain.comment_added(EVENT, video_id=VIDEO, owner_id=OWNER, author_id=OWNER, author_name="Ada",
                                title="Cats") == []


def test_owner_is_not_notified_of_their_own_like() -> None:
    assert domain.video_liked(EVENT, video_id=VIDEO, owner_id=OWNER, user_id=OWNER, user_name="Ada", title="C") == []
    [liked] = domain.video_liked(EVENT, video_id=VIDEO, owner_id=OWNER, user_id=BOB, user_name=None, title="Cats")
    assert (liked.recipient_id, liked.text) == (OWNER, "Someone liked your video: Cats")


def test_new_follower_notifies_the_channel_owner_without_a_video() -> None:
    [followed] = domain.new_follower(EVENT, channel_id=OWNER, follower_id=BOB, follower_name="Bob")
    assert (followed.recipient_id, followed.kind, followed.video_id) == (OWNER, Kind.NEW_FOLLOWER, "")
    assert domain.new_follower(EVENT, channel_id=OWNER, follower_id=OWNER, follower_name="Ada") == []


def test_notification_id_is_the_same_for_the_same_event_and_recipient() -> None:
    first, again = published([ALICE]), published([ALICE])
    assert first[0].notification_id == again[0].notification_id == domain.notification_id(EVENT, ALICE)
    other_event = published([ALICE], event_id=str(uuid.uuid4()))
    assert other_event[0].notification_id != first[0].notification_id
    assert domain.notification_id(EVENT, BOB) != domain.notification_id(EVENT, ALICE)


def test_text_is_one_line_of_at_most_500_characters() -> None:
    [notification] = domain.video_published(EVENT, video_id=VIDEO, owner_id=OWNER, owner_name="Ada\nLovelace",
                                            title="x" * 1000, followers=[ALICE])
    assert len(notification.text) == domain.MAX_TEXT
    assert "\n" not in notification.text and notification.text.startswith("Ada Lovelace published")


@pytest.mark.parametrize(("ids", "all_"), [((), False), ((str(uuid.uuid4()),), True)])
def test_mark_read_needs_exactly_one_of_ids_or_all(ids: tuple[str, ...], all_: bool) -> None:
    with pytest.raises(InvalidArgument) as raised:
        MarkRead(str(uuid.uuid4()), ALICE, ids, all_)
    assert raised.value.violations[0].field == "notification_ids"
