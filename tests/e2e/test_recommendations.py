"""The Go recommendations service behind the web BFF, through the front door: users like
overlapping videos through REST, the web video page lists the co-liked videos first, a
signed-in home has them in its "for you" row, and with the service stopped the page still
answers 200 and names it in `degraded`; the lists survive a restart (state in Postgres,
offsets committed after the inbox).

Nothing here waits on a version: the recommendations trail the events, so every read is a
bounded poll.
"""

from __future__ import annotations

import uuid
from typing import Any

from scripts.devstack.stack import Stack
from tests.e2e.support.rest import Account, Gateway, new_id, ok
from tests.e2e.support.waiting import eventually

EVENTUAL_S = 30.0
INSTANCE = "recommendations-0"
READY_S = 60.0


def like(gateway: Gateway, who: Account, *video_ids: str) -> None:
    for video_id in video_ids:
        ok(gateway.post(f"/api/web/v1/videos/{video_id}:like", {"requestId": new_id()}, who))


def related(gateway: Gateway, video_id: str) -> tuple[list[str], list[str]]:
    """The web video page's related ids and degraded parts."""
    page = ok(gateway.get(f"/api/web/v1/videos/{video_id}"))
    return [card["videoId"] for card in page.get("related", [])], page.get("degraded", [])


def degraded_page(gateway: Gateway, video_id: str) -> tuple[list[str], list[str]] | None:
    """The page's related ids and degraded parts once it names a degraded part, else None."""
    found = related(gateway, video_id)
    return found if found[1] else None


def for_you(gateway: Gateway, who: Account) -> list[str]:
    home: dict[str, Any] = ok(gateway.get("/api/web/v1/home", who))
    return [card["videoId"] for card in home.get("forYou", [])]


def published(gateway: Gateway, owner: Account, title: str) -> str:
    video_id, version = gateway.create_video(owner, f"{title} {uuid.uuid4().hex[:6]}")
    gateway.publish(owner, video_id, version)
    return video_id


def test_co_liked_videos_lead_the_related_list_degrade_cleanly_and_survive_a_restart(gateway: Gateway,
                                                                                   stack: Stack) -> None:
    owner = gateway.sign_up("Uploader")
    otters, beavers, herons, voles = (published(gateway, owner, t) for t in ("Otters", "Beavers", "Herons", "Voles"))
    fans = [gateway.sign_up(f"Fan {n}") for n in range(3)]
    like(gateway, fans[0], otters, beavers, herons)
    like(gateway, fans[1], otters, herons)
    like(gateway, fans[2], voles)
    # Herons is liked with Otters by two fans, Beavers by one; Voles by none, so it only
    # follows as one of the channel's other videos.
    expected = [herons, beavers]
    eventually(lambda: related(gateway, otters)[0][:2] == expected or None,
               f"the co-liked videos {expected} first on the video page", timeout=EVENTUAL_S, interval=0.3)
    assert related(gateway, otters) == ([herons, beavers, voles], [])
    # Beavers is co-liked with both of Fan 1's likes; Fan 1 likes Otters and Herons already.
    eventually(lambda: for_you(gateway, fans[1])[:1] == [beavers] or None, "Beavers for Fan 1",
               timeout=EVENTUAL_S, interval=0.3)
    assert otters not in for_you(gateway, fans[1]) and herons not in for_you(gateway, fans[1])

    stack.pc.stop_process(INSTANCE)
    try:
        ids, degraded = eventually(lambda: degraded_page(gateway, otters), "the page naming the stopped service",
                                   timeout=EVENTUAL_S, interval=0.3)
        assert degraded == ["recommendations"]
        assert sorted(ids) == sorted([beavers, herons, voles])  # the channel's videos, as before the service
    finally:
        stack.pc.start_process(INSTANCE)
    assert stack.wait_ready(INSTANCE, READY_S), f"{INSTANCE} not ready again"
    eventually(lambda: related(gateway, otters) == ([herons, beavers, voles], []) or None,
               "the same related list after the restart", timeout=EVENTUAL_S, interval=0.3)
