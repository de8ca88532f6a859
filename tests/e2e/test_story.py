"""The whole story through the front door: sign up, follow, publish, get told, react, count.

Writes return versions: reads pass them as min_version wherever the contract offers it (the
web video page, the mobile video). What has no version (home page, feed, inbox, mail) is
awaited with bounded polling.
"""

from __future__ import annotations

import uuid
from typing import Any

from scripts.devstack.stack import Stack
from tests.e2e.support.mail import Mailbox
from tests.e2e.support.rest import Account, Gateway, new_id, ok
from tests.e2e.support.waiting import eventually

EVENTUAL_S = 30.0  # events cross Kafka twice (video -> notification -> email)


def notifications_of(gateway: Gateway, who: Account, kind: str, video_id: str = "") -> list[dict[str, Any]]:
    """The user's web inbox entries of one kind (about one video, when given)."""
    inbox = ok(gateway.get("/api/web/v1/notifications", who, pageSize=100))
    return [n for n in inbox["notifications"] if n["kind"] == kind and n["videoId"] == video_id]


def in_feed(gateway: Gateway, who: Account, video_id: str, uploader: str) -> dict[str, Any] | None:
    """The video's card in the mobile feed's first page, once it shows the uploader's name
    (the read model learns names from users.v1, a topic of its own, so they may come later)."""
    feed = ok(gateway.get("/api/mobile/v1/feed", who, pageSize=100))
    card = next((v for v in feed["videos"] if v["videoId"] == video_id), None)
    assert card is None or card["uploaderName"] == uploader, card
    return card


def in_home(gateway: Gateway, who: Account, video_id: str) -> dict[str, Any] | None:
    """The video's card in the web home page's "following" section, if it is there."""
    home = ok(gateway.get("/api/web/v1/home", who, pageSize=100))
    assert home["signedIn"] and not home["degraded"], home
    return next((v for v in home["following"] if v["videoId"] == video_id), None)


def publish_video(gateway: Gateway, owner: Account, title: str) -> tuple[str, int]:
    """Create a draft and publish it; the owner reads it back at once (read your writes)."""
    video_id, version = gateway.create_video(owner, title)
    published = gateway.publish(owner, video_id, expected_version=version)
    assert published > version
    # UNAVAILABLE (503) means the read model has not seen the video at all yet: retry.
    page = eventually(lambda: gateway.video_page(video_id, published, owner), "the owner reading the video")
    assert page["video"]["card"]["published"] and page["viewer"]["owner"], page
    assert int(page["video"]["version"]) >= published
    return video_id, published


def react(gateway: Gateway, viewer: Account, video_id: str) -> tuple[int, str]:
    """Like (mobile), comment and view (web); returns the newest version and the comment."""
    liked = ok(gateway.post(f"/api/mobile/v1/videos/{video_id}:like", {"requestId": new_id()}, viewer))
    assert liked["likeCount"] == "1", liked
    comment = f"Lovely, {uuid.uuid4().hex[:6]}"
    commented = ok(gateway.post(f"/api/web/v1/videos/{video_id}/comments",
                                {"requestId": new_id(), "body": comment}, viewer))
    viewed = ok(gateway.post(f"/api/web/v1/videos/{video_id}/views", {"requestId": new_id()}, viewer))
    assert viewed["viewCount"] == "1", viewed
    return max(int(liked["version"]), int(commented["version"]), int(viewed["version"])), comment


def check_web_counts(gateway: Gateway, viewer: Account, video_id: str, version: int, comment: str) -> bool:
    page = gateway.video_page(video_id, version, viewer)
    card = page["video"]["card"]
    assert (card["likeCount"], card["commentCount"], card["viewCount"]) == ("1", "1", "1"), card
    assert [c["body"] for c in page["comments"]] == [comment], page["comments"]
    assert page["comments"][0]["authorId"] == viewer.user_id
    assert page["viewer"] == {"signedIn": True, "liked": True, "following": True, "owner": False}, page["viewer"]
    assert page["uploader"]["followerCount"] == "1" and not page["degraded"], page
    return True


def check_mobile_counts(gateway: Gateway, viewer: Account, video_id: str, version: int) -> None:
    # The mobile answer has no `stale` flag, so wait for the counts rather than trust min_version.
    def counted() -> bool:
        answer = gateway.mobile_video(video_id, version, viewer)
        assert (answer["likeCount"], answer["liked"], answer["video"]["viewCount"]) == ("1", True, "1"), answer
        return True

    eventually(counted, "the mobile counts", timeout=EVENTUAL_S)


def test_two_users_follow_publish_notify_react_and_count(gateway: Gateway, stack: Stack) -> None:
    ada, bob = gateway.sign_up("Ada"), gateway.sign_up("Bob")
    assert gateway.follow(bob, ada) == 1
    title = f"Otters at dawn {uuid.uuid4().hex[:8]}"
    video_id, version = publish_video(gateway, ada, title)

    eventually(lambda: in_home(gateway, bob, video_id), "the video on Bob's web home page", EVENTUAL_S)
    card = eventually(lambda: in_feed(gateway, bob, video_id, "Ada"), "the video in Bob's mobile feed", EVENTUAL_S)
    assert card["title"] == title, card
    told = eventually(lambda: notifications_of(gateway, bob, "NOTIFICATION_KIND_VIDEO_PUBLISHED", video_id),
                      "Bob's notification of the new video", EVENTUAL_S)
    assert len(told) == 1 and told[0]["actorId"] == ada.user_id and title in told[0]["text"], told
    subject, mailbox = f"Ada published a new video: {title}", Mailbox(stack.layout.maildir)
    mails = eventually(lambda: mailbox.matching(bob.email, subject),
                       f"the mail to {bob.email}", EVENTUAL_S, interval=0.25)
    assert len(mails) == 1, f"{len(mails)} mails to {bob.email}"

    version, comment = react(gateway, bob, video_id)
    eventually(lambda: notifications_of(gateway, ada, "NOTIFICATION_KIND_COMMENT_ADDED", video_id),
               "Ada's notification of Bob's comment", EVENTUAL_S)
    eventually(lambda: notifications_of(gateway, ada, "NOTIFICATION_KIND_NEW_FOLLOWER"),
               "Ada's notification of her new follower", EVENTUAL_S)
    # A stale page (the projection lagged past the query's bounded wait) is retried.
    eventually(lambda: check_web_counts(gateway, bob, video_id, version, comment), "the web counts", EVENTUAL_S)
    check_mobile_counts(gateway, bob, video_id, version)
