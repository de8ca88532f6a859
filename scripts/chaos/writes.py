"""The workload's writes, one function per kind, each as a user of the web or mobile app does it.

Each picks what to write from the model, records an op in the history, sends it with the
client (retrying as a well-behaved client does) and tells the model what it learned. A few
are meant to be refused (a comment that is too long, a publish with a stale version, a
request_id reused for another comment, a taken email): their effect must never appear.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from scripts.chaos.client import PASSWORD, Account, Client, new_id
from scripts.chaos.history import History
from scripts.chaos.model import Model, Video

TOO_LONG_TITLE, TOO_LONG_COMMENT = "x" * 200, "x" * 2000  # past the protos' max_len


@dataclass(kw_only=True)
class Writer:
    """What a write needs: the shared model, the history, a client and a random source."""

    model: Model
    history: History
    client: Client
    rng: random.Random

    def chance(self, p: float) -> bool:
        """True with probability p."""
        return self.rng.random() < p


def token() -> str:
    """A short unique marker to find a write's effect by."""
    return new_id()[:13]


def register(w: Writer) -> None:
    """A new account, signed in so it can act; now and then an email that is taken (409)."""
    with w.model.lock:
        taken = w.model.pick_account(w.rng) if w.chance(0.1) else None
    mark = token()
    email = taken.email if taken else f"chaos-{mark}@example.test"
    name = f"Chaos {mark[:4]}"
    op = w.history.new("register", "", request_id=new_id(), token=email, intent="taken-email" if taken else "apply",
                       body={"email": email, "password": PASSWORD, "displayName": name})
    w.client.write(op, "/api/auth/v1/register")
    if op.outcome == "ok" and not taken:
        account = Account(user_id=op.answer["userId"], email=email, name=name)
        if w.client.sign_in(account):
            with w.model.lock:
                w.model.accounts.append(account)


def follow(w: Writer) -> None:
    """A fan follows a channel they do not follow yet (never twice)."""
    with w.model.lock:
        pairs = w.model.unfollowed_pairs()
        if not pairs:
            return
        fan, channel = w.rng.choice(pairs)
        w.model.followed.add((fan.user_id, channel.user_id))
    op = w.history.new("follow", fan.user_id, target=channel.user_id, request_id=new_id())
    w.client.write(op, f"/api/web/v1/channels/{channel.user_id}:follow", fan)


def create(w: Writer) -> None:
    """A draft with a unique title; now and then a title that is too long (400)."""
    with w.model.lock:
        owner = w.model.pick_account(w.rng)
    if owner is None:
        return
    mark, too_long = token(), w.chance(0.05)
    title = f"chaos {mark}" + (TOO_LONG_TITLE if too_long else "")
    op = w.history.new("create", owner.user_id, request_id=new_id(), token=mark,
                       intent="too-long" if too_long else "apply",
                       body={"title": title, "description": f"a video of the chaos run ({mark})",
                             "durationSeconds": 60, "tags": ["chaos"]})
    w.client.write(op, "/api/web/v1/videos", owner)
    if op.outcome == "ok":
        with w.model.lock:
            w.model.videos[op.answer["videoId"]] = Video(video_id=op.answer["videoId"], owner=owner.user_id,
                                                         title=title, version=int(op.answer["version"]))


def publish(w: Writer) -> None:
    """The owner publishes a draft; now and then with a stale version (409), and that draft stays one."""
    with w.model.lock:
        video = w.model.pick_videos(w.rng, "draft")
        if video is None or not w.model.claim(video.video_id):
            return
        owner = w.model.account(video.owner)
    stale = w.chance(0.1)
    op = w.history.new("publish", owner.user_id, target=video.video_id, request_id=new_id(),
                       intent="stale-version" if stale else "apply",
                       body={"expectedVersion": str(video.version + (7 if stale else 0))})
    w.client.write(op, f"/api/web/v1/videos/{video.video_id}:publish", owner)
    with w.model.lock:
        video.state = {"ok": "published", "indeterminate": "unsure"}.get(op.outcome, "kept-draft")  # type: ignore[assignment]
    w.model.release(video.video_id)


def view(w: Writer) -> None:
    """Someone watches a published video; now and then a draft (400, not counted)."""
    draft = w.chance(0.05)
    with w.model.lock:
        video = w.model.pick_videos(w.rng, *(("draft", "kept-draft") if draft else ("published",)))
        viewer = w.model.pick_account(w.rng)
    if video is None or viewer is None:
        return
    op = w.history.new("view", viewer.user_id, target=video.video_id, request_id=new_id(),
                       intent="draft" if draft else "apply")
    w.client.write(op, f"/api/web/v1/videos/{video.video_id}/views", viewer)


def like_or_unlike(w: Writer) -> None:
    """A fan likes a published video they do not like (web or mobile), or unlikes one they do."""
    with w.model.lock:
        video = w.model.pick_videos(w.rng, "published")
        fan = w.model.pick_account(w.rng, other_than=video.owner) if video else None
        if video is None or fan is None:
            return
        pair, key = (fan.user_id, video.video_id), f"likes of {fan.user_id}"  # a fan's likes, one at a time
        if pair in w.model.unsure or not w.model.claim(key):
            return
        liked = w.model.liked.get(pair, False)
    kind = "unlike" if liked else "like"
    app = "mobile" if kind == "like" and w.chance(0.5) else "web"
    op = w.history.new(kind, fan.user_id, target=video.video_id, request_id=new_id())
    w.client.write(op, f"/api/{app}/v1/videos/{video.video_id}:{kind}", fan)
    with w.model.lock:
        if op.outcome == "ok":
            w.model.liked[pair] = kind == "like"
        elif op.outcome == "indeterminate":
            w.model.unsure.add(pair)
    w.model.release(key)


def comment(w: Writer) -> None:
    """A comment with a unique token; now and then one too long (400), or one sent without a
    request_id (as a careless client does: sent once, never retried)."""
    with w.model.lock:
        video = w.model.pick_videos(w.rng, "published")
        author = w.model.pick_account(w.rng)
    if video is None or author is None:
        return
    mark, too_long, careless = token(), w.chance(0.05), w.chance(0.1)
    op = w.history.new("comment", author.user_id, target=video.video_id, token=mark,
                       request_id="" if careless else new_id(), intent="too-long" if too_long else "apply",
                       body={"body": f"{mark} says hello" + (TOO_LONG_COMMENT if too_long else "")})
    w.client.write(op, f"/api/web/v1/videos/{video.video_id}/comments", author)
    if op.outcome == "ok" and op.request_id:
        with w.model.lock:
            w.model.comments.append(op)


def reuse_request_id(w: Writer) -> None:
    """The request_id of an acknowledged comment, sent again with another body: refused (400)."""
    with w.model.lock:
        if not w.model.comments:
            return
        earlier = w.rng.choice(w.model.comments)
        author = w.model.account(earlier.actor)
    mark = token()
    op = w.history.new("comment", author.user_id, target=earlier.target, token=mark, request_id=earlier.request_id,
                       intent="reused-id", body={"body": f"{mark} reuses a request id"})
    w.client.write(op, f"/api/web/v1/videos/{earlier.target}/comments", author)


def mark_read(w: Writer) -> None:
    """A user reads their newest unread notifications and marks them read."""
    with w.model.lock:
        reader = w.model.pick_account(w.rng)
    if reader is None:
        return
    page = w.client.get("/api/web/v1/notifications", reader, pageSize=20, unreadOnly="true")
    ids = [n["notificationId"] for n in (page or {}).get("notifications", [])][: w.rng.randint(1, 5)]
    if not ids:
        return
    op = w.history.new("mark_read", reader.user_id, request_id=new_id(), body={"notificationIds": ids})
    w.client.write(op, "/api/web/v1/notifications:markRead", reader)


# How often each write is chosen: views and likes dominate, as in any video app.
WRITES: tuple[tuple[Callable[[Writer], None], int], ...] = (
    (view, 30), (like_or_unlike, 18), (comment, 14), (create, 8), (publish, 8), (follow, 7),
    (mark_read, 6), (reuse_request_id, 3), (register, 2),
)


def any_write(w: Writer) -> None:
    """One write, chosen by the weights above."""
    write = w.rng.choices([f for f, _ in WRITES], weights=[n for _, n in WRITES])[0]
    write(w)
