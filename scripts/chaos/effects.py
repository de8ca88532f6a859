"""The rules: for every effect a write has, how many of it the history allows, compared with
how many the read models hold.

An op that answered ok must show its effect exactly once; one that was refused, not at all
(an effect found anyway is phantom); one whose outcome the client never learned, at most
once. A counter must lie between the ok ops and the ok plus indeterminate ones, so with no
indeterminate op it equals the acknowledged operations exactly.
"""

from __future__ import annotations

from collections.abc import Callable

from scripts.chaos.facts import Facts, bounds, replayed
from scripts.chaos.history import Op
from scripts.chaos.observed import Observed
from scripts.chaos.verdict import Verdict, Wrong

WELCOME = "Welcome to vidmesh"

Rule = Callable[[Facts, Observed, Verdict], None]


def allowed(op: Op) -> tuple[int, int]:
    """How many times one op's effect may be found."""
    return {"ok": (1, 1), "indeterminate": (0, 1), "refused": (0, 0)}[op.outcome]


def excess(high: int) -> Wrong:
    """What a surplus is: phantom where nothing may be found, else a duplicate."""
    return "phantom" if high == 0 else "duplicated"


def expect_op(verdict: Verdict, effect: str, op: Op, seen: int) -> None:
    """One op's effect, found `seen` times."""
    low, high = allowed(op)
    verdict.expect(effect, f"op {op.seq} {op.kind} ({op.outcome})", seen, low, high,
                   excess=excess(high), replayed=op.uncertain_once)


def welcome(facts: Facts, seen: Observed, verdict: Verdict) -> None:
    """One welcome per account: in the email service's record and in the Maildir."""
    for user_id in facts.users():
        if user_id in seen.scope.users:
            count = sum(sent.kind == "WELCOME" for sent in seen.sent.get(user_id, []))
            verdict.expect("welcome email (email service)", f"user {user_id}", count, 1, 1)
    for address, ops in facts.registrations.items():
        if address not in seen.scope.emails:
            continue
        low, high = min(1, bounds(ops)[0]), min(1, bounds(ops)[1])  # one account per address
        verdict.expect("welcome mail (Maildir)", f"address {address}", seen.mails_to(address, WELCOME), low, high,
                       excess=excess(high), replayed=replayed(ops))


def follows(facts: Facts, seen: Observed, verdict: Verdict) -> None:
    """A follow counts once on the channel and tells its owner once."""
    for channel in seen.scope.users & set(facts.users()):
        ops = facts.follows.get(channel, [])
        low, high = bounds(ops)
        verdict.expect("follower count", f"channel {channel}", seen.followers.get(channel, 0), low, high,
                       replayed=replayed(ops))
        for op in ops:
            count = sum(n.kind == "NEW_FOLLOWER" and n.actor_id == op.actor for n in seen.notices.get(channel, []))
            expect_op(verdict, "new-follower notification", op, count)


def creates(facts: Facts, seen: Observed, verdict: Verdict) -> None:
    """A draft per create, found by its title (each carries a unique token)."""
    for op in facts.creates:
        if op.actor in seen.scope.owners:
            expect_op(verdict, "video created", op, seen.titles.get(op.actor, []).count(op.body["title"]))


def publishes(facts: Facts, seen: Observed, verdict: Verdict) -> None:
    """Published once; every follower told once, by a notification, an email and a mail."""
    for video in _videos(facts, seen):
        ops = facts.of_kind(video, "publish")
        low, high = min(1, bounds(ops)[0]), min(1, bounds(ops)[1])
        card = seen.cards.get(video)
        verdict.expect("video published", f"video {video}", int(bool(card and card.published)), low, high,
                       excess="phantom", replayed=replayed(ops))
        for recipient in seen.scope.users & set(facts.users()) - {facts.owner_of[video]}:
            _told(facts, seen, verdict, video, recipient, ops)


def _told(facts: Facts, seen: Observed, verdict: Verdict, video: str, recipient: str, publishes: list[Op]) -> None:
    low, high = _audience(facts, video, recipient, publishes)
    where, surplus = f"video {video} to {recipient}", excess(high)
    notices = sum(n.kind == "VIDEO_PUBLISHED" and n.video_id == video for n in seen.notices.get(recipient, []))
    verdict.expect("published: notification", where, notices, low, high, excess=surplus)
    emails = sum(s.kind == "NOTIFICATION" and f"/videos/{video}" in s.body for s in seen.sent.get(recipient, []))
    verdict.expect("published: email (email service)", where, emails, low, high, excess=surplus)
    mails = seen.mails_to(facts.emails[recipient], facts.title_of[video])
    verdict.expect("published: mail (Maildir)", where, mails, low, high, excess=surplus)


def _audience(facts: Facts, video: str, recipient: str, publishes: list[Op]) -> tuple[int, int]:
    """Must `recipient` hear of the video's publication (1, 1), may they (0, 1), or not (0, 0)?

    A follower whose follow was acknowledged before the publish was sent must; one whose
    follow overlapped it, or never got an answer, may; anyone else must not."""
    publish = next((op for op in publishes if op.outcome != "refused"), None)
    follow = facts.follow_of(recipient, facts.owner_of[video])
    if publish is None or follow is None or follow.outcome == "refused":
        return 0, 0
    acknowledged = follow.acknowledged_at
    if publish.outcome == "ok" and acknowledged is not None and acknowledged < publish.began:
        return 1, 1
    return 0, 1


def counters(facts: Facts, seen: Observed, verdict: Verdict) -> None:
    """Views, likes and comments on every card: the acknowledged ops, exactly."""
    for video in _videos(facts, seen):
        card = seen.cards.get(video)
        views = facts.of_kind(video, "view")
        verdict.expect("view count", f"video {video}", card.views if card else 0, *bounds(views),
                       replayed=replayed(views))
        low, high = _like_range(facts, video)
        verdict.expect("like count", f"video {video}", card.likes if card else 0, low, high,
                       replayed=replayed(facts.of_kind(video, "like", "unlike")))
        comments = facts.of_kind(video, "comment")
        verdict.expect("comment count", f"video {video}", card.comments if card else 0, *bounds(comments),
                       replayed=replayed(comments))


def _like_range(facts: Facts, video: str) -> tuple[int, int]:
    """The fewest and most likes the like/unlike ops allow, fan by fan."""
    states = facts.likers(video).values()
    return sum(s == {True} for s in states), sum(True in s for s in states)


def co_likes(facts: Facts, seen: Observed, verdict: Verdict) -> None:
    """recommendations' "liked this, also liked": per pair of videos, the fans who like both."""
    if seen.related is None:
        return  # no recommendations service in this mesh
    likers = {video: facts.likers(video) for video in facts.owner_of}
    for video in _videos(facts, seen):
        listed = seen.related.get(video, {})
        for other in sorted(set(likers) - {video}):
            both = [(likers[video][fan], likers[other][fan]) for fan in likers[video].keys() & likers[other].keys()]
            low, high = sum(a == b == {True} for a, b in both), sum(True in a and True in b for a, b in both)
            if high or listed.get(other):
                verdict.expect("recommendations: co-liked score", f"video {video} and {other}", listed.get(other, 0),
                               low, high)


def comments(facts: Facts, seen: Observed, verdict: Verdict) -> None:
    """Each comment once in the list (found by its token), and its owner told once."""
    for video in seen.scope.videos & set(facts.on_video):
        listed = seen.comments.get(video, [])
        for op in facts.of_kind(video, "comment"):
            expect_op(verdict, "comment listed", op, sum(op.token in c.body for c in listed))
    for video in _videos(facts, seen):
        owner = facts.owner_of[video]
        if owner in seen.scope.users:
            _owner_told(facts, seen, verdict, video, owner)


def _owner_told(facts: Facts, seen: Observed, verdict: Verdict, video: str, owner: str) -> None:
    """Per fan: one notification to the owner per comment, and per like."""
    notices = seen.notices.get(owner, [])
    for kind, op_kind, effect in (("COMMENT_ADDED", "comment", "comment: owner notified"),
                                  ("VIDEO_LIKED", "like", "like: owner notified")):
        for fan in {op.actor for op in facts.of_kind(video, op_kind)} - {owner}:
            ops = [op for op in facts.of_kind(video, op_kind) if op.actor == fan]
            count = sum(n.kind == kind and n.video_id == video and n.actor_id == fan for n in notices)
            verdict.expect(effect, f"video {video} by {fan}", count, *bounds(ops), replayed=replayed(ops))


def marks(facts: Facts, seen: Observed, verdict: Verdict) -> None:
    """Every notification an acknowledged MarkRead named is read."""
    for op in facts.mark_reads:
        if op.outcome != "ok" or op.actor not in seen.scope.users:
            continue
        read = {n.notification_id for n in seen.notices.get(op.actor, []) if n.read}
        for notification_id in op.body["notificationIds"]:
            verdict.expect("marked read", f"op {op.seq} {notification_id}", int(notification_id in read), 1, 1)


def _videos(facts: Facts, seen: Observed) -> list[str]:
    """The videos in scope that a create made (with an answer: their id is known)."""
    return [video for video in facts.owner_of if video in seen.scope.videos]


RULES: tuple[Rule, ...] = (welcome, follows, creates, publishes, counters, comments, marks, co_likes)


def check(facts: Facts, seen: Observed) -> Verdict:
    """Apply every rule to what was read."""
    verdict = Verdict()
    for rule in RULES:
        rule(facts, seen, verdict)
    return verdict
