"""The checker's rules on hand-made histories and read models: each kind of wrong is caught,
and what the history allows is not called wrong."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from scripts.chaos.effects import check
from scripts.chaos.facts import Facts
from scripts.chaos.history import Attempt, History, Op
from scripts.chaos.observed import Card, Comment, Mail, Notice, Observed, Scope

OWNER, FAN, OTHER, VIDEO = "owner-id", "fan-id", "other-id", "video-id"
STATUS = {"ok": 200, "refused": 400, "indeterminate": 504}


class World:
    """A history being written, and the read models to judge it against."""

    def __init__(self) -> None:
        self.history, self.clock = History(), 0.0
        for user in (OWNER, FAN, OTHER):
            self.op("register", "", "ok", body={"email": f"{user}@x.test"}, answer={"userId": user})
        self.op("create", OWNER, "ok", body={"title": "chaos t1"}, answer={"videoId": VIDEO, "version": "1"})

    def op(self, kind: str, actor: str, outcome: str, *, answer: dict[str, Any] | None = None, **fields: Any) -> Op:
        self.clock += 1.0
        op = self.history.new(kind, actor, request_id=fields.pop("request_id", "r"), **fields)
        op.attempts.append(Attempt(began=self.clock, ended=self.clock + 0.5, status=STATUS[outcome]))
        op.answer = answer or {}
        return op

    def card(self, **counts: int) -> Card:
        return Card(video_id=VIDEO, owner_id=OWNER, title="chaos t1", published=False, views=counts.get("views", 0),
                    likes=counts.get("likes", 0), comments=counts.get("comments", 0))

    def judge(self, seen: Observed, *effects: str) -> dict[str, tuple[int, int, int]]:
        """(lost, duplicated, phantom) of each of these effects that is not all right."""
        verdict = check(Facts.of(self.history.ops), seen)
        assert set(effects) <= set(verdict.tallies), f"not checked: {set(effects) - set(verdict.tallies)}"
        return {t.effect: (t.lost, t.duplicated, t.phantom) for t in verdict.tallies.values()
                if t.effect in effects and (t.lost, t.duplicated, t.phantom) != (0, 0, 0)}


def video_scope(world: World, card: Card, comments: list[Comment] | None = None) -> Observed:
    return Observed(scope=Scope(videos={VIDEO}), cards={VIDEO: card}, comments={VIDEO: comments or []})


def test_counters_equal_the_acknowledged_ops_and_range_over_the_unknown_ones() -> None:
    world = World()
    for outcome in ("ok", "ok", "refused", "indeterminate"):
        world.op("view", FAN, outcome, target=VIDEO)
    for views, wrong in ((2, {}), (3, {}), (1, {"view count": (1, 0, 0)}), (4, {"view count": (0, 1, 0)})):
        assert world.judge(video_scope(world, world.card(views=views)), "view count") == wrong


def test_likes_follow_each_fans_last_known_state() -> None:
    world = World()
    world.op("like", FAN, "ok", target=VIDEO)
    world.op("unlike", FAN, "ok", target=VIDEO)
    world.op("like", OTHER, "ok", target=VIDEO)
    assert world.judge(video_scope(world, world.card(likes=1)), "like count") == {}
    assert world.judge(video_scope(world, world.card(likes=2)), "like count") == {"like count": (0, 1, 0)}
    assert world.judge(video_scope(world, world.card(likes=0)), "like count") == {"like count": (1, 0, 0)}
    world.op("unlike", OTHER, "indeterminate", target=VIDEO)
    assert world.judge(video_scope(world, world.card(likes=0)), "like count") == {}


def test_a_comment_is_listed_once_and_a_refused_one_never() -> None:
    world = World()
    world.op("comment", FAN, "ok", target=VIDEO, token="tok-a")
    world.op("comment", FAN, "refused", target=VIDEO, token="tok-b", intent="reused-id")
    world.op("comment", FAN, "indeterminate", target=VIDEO, token="tok-c", request_id="")

    def listed(*tokens: str) -> Observed:
        comments = [Comment(author_id=FAN, body=f"{t} says hello") for t in tokens]
        return video_scope(world, world.card(comments=min(len(tokens), 2)), comments)

    effects = ("comment listed", "comment count")
    assert world.judge(listed("tok-a"), *effects) == {}
    assert world.judge(listed("tok-a", "tok-c"), *effects) == {}
    assert world.judge(listed(), *effects) == {"comment listed": (1, 0, 0), "comment count": (1, 0, 0)}
    assert world.judge(listed("tok-a", "tok-a"), *effects) == {"comment listed": (0, 1, 0)}
    assert world.judge(listed("tok-a", "tok-b"), *effects) == {"comment listed": (0, 0, 1)}


def publication(world: World, notified: set[str], mails: set[str] | None = None) -> Observed:
    users = {OWNER, FAN, OTHER}
    return Observed(
        scope=Scope(videos={VIDEO}, users=users), cards={VIDEO: replace(world.card(), published=True)},
        comments={VIDEO: []},
        notices={u: [Notice(notification_id=f"n-{u}", kind="VIDEO_PUBLISHED", video_id=VIDEO, actor_id=OWNER,
                            read=False)] if u in notified else [] for u in users},
        mails=[Mail(to=f"{u}@x.test", subject="Owner published a new video: chaos t1", message_id=f"<{u}>")
               for u in (notified if mails is None else mails)])


def test_a_follower_acknowledged_before_the_publish_must_hear_of_it_and_no_one_else() -> None:
    world = World()
    world.op("follow", FAN, "ok", target=OWNER)
    world.op("publish", OWNER, "ok", target=VIDEO)
    told = ("published: notification", "published: mail (Maildir)")
    assert world.judge(publication(world, {FAN}), *told) == {}
    assert world.judge(publication(world, set()), *told) == {told[0]: (1, 0, 0), told[1]: (1, 0, 0)}
    assert world.judge(publication(world, {FAN}, mails=set()), *told) == {told[1]: (1, 0, 0)}
    assert world.judge(publication(world, {FAN, OTHER}), *told) == {told[0]: (0, 0, 1), told[1]: (0, 0, 1)}


def test_a_follow_that_overlaps_the_publish_may_go_either_way() -> None:
    world = World()
    publish = world.op("publish", OWNER, "ok", target=VIDEO)
    follow = world.op("follow", FAN, "ok", target=OWNER)
    follow.attempts[0].began = publish.began  # sent while the publish was in flight
    for notified in (set(), {FAN}):
        assert world.judge(publication(world, notified), "published: notification", "published: mail (Maildir)") == {}


def test_a_taken_email_allows_no_second_welcome() -> None:
    world = World()
    world.op("register", "", "refused", body={"email": f"{FAN}@x.test"}, intent="taken-email")
    welcome = Mail(to=f"{FAN}@x.test", subject="Welcome to vidmesh, Fan", message_id="<w>")
    seen = Observed(scope=Scope(emails={f"{FAN}@x.test"}), mails=[welcome])
    assert world.judge(seen, "welcome mail (Maildir)") == {}
    seen.mails.append(Mail(to=f"{FAN}@x.test", subject="Welcome to vidmesh, Fan", message_id="<w2>"))
    assert world.judge(seen, "welcome mail (Maildir)") == {"welcome mail (Maildir)": (0, 1, 0)}


def test_an_acknowledged_mark_read_leaves_every_named_notification_read() -> None:
    world = World()
    world.op("mark_read", FAN, "ok", body={"notificationIds": ["n-1", "n-2"]})
    notices = [Notice(notification_id=n, kind="VIDEO_LIKED", video_id=VIDEO, actor_id=OTHER, read=n == "n-1")
               for n in ("n-1", "n-2")]
    seen = Observed(scope=Scope(users={FAN}), notices={FAN: notices}, sent={FAN: []}, followers={FAN: 0})
    assert world.judge(seen, "marked read") == {"marked read": (1, 0, 0)}


def test_a_co_liked_score_counts_the_fans_who_like_both_videos() -> None:
    world = World()
    world.op("create", OWNER, "ok", body={"title": "chaos t2"}, answer={"videoId": "video-2", "version": "1"})
    for fan in (FAN, OTHER):
        world.op("like", fan, "ok", target=VIDEO)
        world.op("like", fan, "ok", target="video-2")
    world.op("unlike", OTHER, "ok", target="video-2")

    def related(score: int | None) -> Observed:
        return Observed(scope=Scope(videos={VIDEO}), cards={VIDEO: world.card()}, comments={VIDEO: []},
                        related={VIDEO: {} if score is None else {"video-2": score}})

    effect = "recommendations: co-liked score"
    assert world.judge(related(1), effect) == {}
    assert world.judge(related(None), effect) == {effect: (1, 0, 0)}
    assert world.judge(related(2), effect) == {effect: (0, 1, 0)}
