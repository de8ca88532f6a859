"""Kafka away for a minute costs nothing but time: with an outbox a write needs only its
database, a read model keeps answering (flagged stale where the read waits for a version),
and once Kafka is back every effect appears exactly once.

On the private stack of tests/stack (a fresh clone's), through its gateway, as a user calls it."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

import pytest

from mesh.settings import Settings, load
from scripts.devstack.layout import Layout
from scripts.devstack.manager import ProcessCompose
from scripts.toolchain import Toolchain
from tests.e2e.support.mail import Mailbox
from tests.e2e.support.rest import Account, Gateway, new_id, ok
from tests.e2e.support.waiting import eventually
from tests.stack.conftest import Newcomer, gateway_url, states

# Longer than pytest's default timeout: a minute without Kafka, then the time to converge.
pytestmark = pytest.mark.timeout(900)

OUTAGE_S = 60.0
CONVERGE_S = 120.0
ROUND_S = 1.0  # the client's pace: one round of writes a second, so a notification page holds them


def _manager(settings: Settings) -> ProcessCompose:
    return ProcessCompose(Toolchain(settings.cache_dir), Layout(settings))


def _published(gateway: Gateway, owner: Account, titles: dict[str, str]) -> str:
    title = f"while Kafka is away {uuid.uuid4().hex[:6]}"
    video_id, version = gateway.create_video(owner, title)
    gateway.publish(owner, video_id, version)
    titles[video_id] = title
    return video_id


def _one_round(gateway: Gateway, owner: Account, fan: Account, titles: dict[str, str], views: Counter[str]) -> None:
    """A few writes and reads of every kind; every write must be acknowledged."""
    videos = list(titles)
    _published(gateway, owner, titles)
    target = videos[0]
    ok(gateway.post(f"/api/web/v1/videos/{target}/views", {"requestId": new_id()}, fan))
    views[target] += 1
    page = ok(gateway.get(f"/api/web/v1/videos/{target}", fan, minVersion=1))
    assert page["video"]["card"]["videoId"] == target  # answered, perhaps stale
    ok(gateway.get("/api/web/v1/home", fan))


def _differs(what: str, seen: Counter[str], titles: dict[str, str]) -> str:
    """Which videos are missing or doubled, short enough to read in a failure."""
    missing = sorted(set(titles) - set(seen))
    doubled = {video: n for video, n in seen.items() if n > 1}
    strangers = sorted(set(seen) - set(titles))
    return (f"{what} for {len(titles)} videos: {len(missing)} missing {missing[:3]}, "
            f"{len(doubled)} doubled {list(doubled.items())[:3]}, {len(strangers)} unknown")


def _notified(gateway: Gateway, fan: Account) -> Counter[str]:
    inbox = ok(gateway.get("/api/web/v1/notifications", fan, pageSize=100))
    return Counter(n["videoId"] for n in inbox["notifications"] if n["kind"] == "NOTIFICATION_KIND_VIDEO_PUBLISHED")


def test_a_minute_without_kafka_loses_nothing_and_doubles_nothing(newcomer: Newcomer) -> None:
    newcomer.wait_healthy()
    settings = load(environ=newcomer.env)
    gateway = Gateway(gateway_url(newcomer.env))
    try:
        owner, fan = gateway.sign_up("Owner"), gateway.sign_up("Fan")
        gateway.follow(fan, owner)
        titles: dict[str, str] = {}
        _published(gateway, owner, titles)
        views: Counter[str] = Counter()
        _manager(settings).stop_process("kafka")
        began, rounds = time.monotonic(), 0
        while time.monotonic() - began < OUTAGE_S:
            _one_round(gateway, owner, fan, titles, views)
            rounds += 1
            time.sleep(max(0.0, began + rounds * ROUND_S - time.monotonic()))  # the workload's pace
        assert not states(newcomer.env)["kafka"].running
        serving = {name: state.healthy for name, state in states(newcomer.env).items() if not state.completed}
        assert all(healthy for name, healthy in serving.items() if name != "kafka"), serving
        _manager(settings).start_process("kafka")

        mailbox, first = Mailbox(Layout(settings).maildir), next(iter(titles))

        def converged() -> dict[str, Any]:
            notified = _notified(gateway, fan)
            assert notified == Counter(titles.keys()), _differs("notifications", notified, titles)
            mails = Counter(video for video, title in titles.items()
                            for _ in mailbox.matching(fan.email, f"Owner published a new video: {title}"))
            assert mails == Counter(titles.keys()), _differs("mails", mails, titles)
            card: dict[str, Any] = ok(gateway.get(f"/api/web/v1/videos/{first}", fan))["video"]["card"]
            assert int(card["viewCount"]) == views[first], card
            return card

        eventually(converged, "every effect of the outage's writes, exactly once", timeout=CONVERGE_S, interval=1.0)
        print(f"{rounds} rounds of writes during {OUTAGE_S:.0f} s without Kafka; {len(titles)} videos published")
    finally:
        gateway.close()
