"""A SIGTERM rolling restart of every service instance loses no request.

While reads and idempotent writes (each with its own request_id) run through the gateway,
every instance of every service is stopped with SIGTERM, started again and awaited until
the gateway routes to it: one instance of each service at a time, the services side by side
(as a rollout of every deployment at once would): first every service's instance 0, then
every instance 1, and so on. A service with one instance first gets a temporary extra
instance (a surge), so it never has none: all surges start together before the first
restart and get SIGTERM together after the last.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from scripts.devstack.stack import Stack
from tests.e2e.conftest import World
from tests.e2e.support.grpc_gateway import GatewayGrpc
from tests.e2e.support.instances import Instance, assert_in_stack, instances, restart, restore_routable, surges
from tests.e2e.support.load import Call, Load
from tests.e2e.support.registry import Consul, EnvoyAdmin
from tests.e2e.support.rest import Account, Gateway, new_id, ok
from tests.e2e.support.waiting import eventually

RECORD_VIEW = "POST /api/web/v1/videos/{id}/views"


def answered(response: httpx.Response) -> str | None:
    """None for a 200 answer (ok() raises otherwise)."""
    ok(response)
    return None


def whole(response: httpx.Response) -> str | None:
    """None for a 200 page with every part: a page that left out a part lost something too."""
    answer = ok(response)
    return f"degraded: {answer['degraded']}" if answer["degraded"] else None


def read_calls(world: World, grpc: GatewayGrpc) -> list[tuple[str, Call]]:
    """Reads touching video-query, users and notification through both BFFs, and gRPC."""
    video, viewer = world.video_id, world.viewer

    def grpc_read(_: Gateway, __: int) -> str | None:
        return None if grpc.get_video(video).video.video_id == video else "another video"

    return [
        ("GET /api/mobile/v1/videos/{id}", lambda c, _: answered(c.get(f"/api/mobile/v1/videos/{video}"))),
        ("GET /api/web/v1/videos/{id}", lambda c, _: whole(c.get(f"/api/web/v1/videos/{video}", viewer))),
        ("GET /api/web/v1/home", lambda c, _: whole(c.get("/api/web/v1/home", viewer))),
        ("GET /api/mobile/v1/notifications", lambda c, _: answered(c.get("/api/mobile/v1/notifications", viewer))),
        ("gRPC MobileBffService/GetVideo", grpc_read),
    ]


def write_calls(world: World) -> list[tuple[str, Call]]:
    """Writes to video-command, users and notification, each with a fresh request_id."""
    video, owner, viewer = world.video_id, world.owner, world.viewer

    def post(path: str, who: Account, extra: dict[str, object] | None = None) -> Call:
        return lambda c, _: answered(c.post(path, {"requestId": new_id(), **(extra or {})}, who))

    def follow_or_unfollow(c: Gateway, i: int) -> str | None:
        verb = "unfollow" if i // 5 % 2 else "follow"
        return answered(c.post(f"/api/web/v1/channels/{owner.user_id}:{verb}", {"requestId": new_id()}, viewer))

    return [
        (RECORD_VIEW, post(f"/api/web/v1/videos/{video}/views", viewer)),
        ("POST /api/mobile/v1/videos/{id}:like", post(f"/api/mobile/v1/videos/{video}:like", viewer)),
        ("POST /api/web/v1/channels/{id}:follow|unfollow", follow_or_unfollow),
        ("POST /api/web/v1/videos/{id}:unlike", post(f"/api/web/v1/videos/{video}:unlike", viewer)),
        ("POST /api/web/v1/notifications:markRead",
         post("/api/web/v1/notifications:markRead", owner, {"all": True})),
    ]


def roll(stack: Stack, every: list[Instance], consul: Consul, envoy: EnvoyAdmin, logs: Path) -> list[str]:
    """Restart the instances wave by wave, wave n being every service's instance n; returns
    how long each wave took. The services with one instance get an extra one first (all at
    once, to boot together), removed at the end."""
    single = [i for i in every if sum(1 for j in every if j.service == i.service) == 1]
    waves = [[i for i in every if i.n == n] for n in sorted({i.n for i in every})]
    timings = []
    began = time.monotonic()
    with surges(stack, single, consul, envoy, logs):
        timings.append(f"surge of {len(single)} {time.monotonic() - began:.1f}s")
        for wave in waves:
            began = time.monotonic()
            restart(stack, wave, consul, envoy)
            timings.append(f"{', '.join(i.name for i in wave)} {time.monotonic() - began:.1f}s")
        began = time.monotonic()
    timings.append(f"surge gone {time.monotonic() - began:.1f}s")
    return timings


def test_sigterm_rolling_restart_of_every_instance_loses_no_request(
        gateway: Gateway, world: World, stack: Stack, consul: Consul, envoy: EnvoyAdmin, tmp_path: Path) -> None:
    every = instances(stack.settings)
    assert_in_stack(stack, every)
    views_before = int(gateway.mobile_video(world.video_id)["video"]["viewCount"])
    grpc = GatewayGrpc(stack.settings)
    load = Load(str(gateway.http.base_url), [read_calls(world, grpc), write_calls(world)])
    try:
        with load:
            eventually(lambda: load.report.total >= 20, "requests flowing before the restarts")
            timings = roll(stack, every, consul, envoy, tmp_path)
            done = load.report.total
            eventually(lambda: load.report.total >= done + 20, "requests flowing after the restarts")
    finally:
        grpc.close()
        restore_routable(stack, every, consul, envoy)
    gateway.follow(world.viewer, world.owner)  # the world as other tests expect it
    report = load.report
    print(f"\nrolling restart: {', '.join(timings)}; {report.total} requests ok, {len(report.failures)} failed")
    assert not report.failures, "\n".join(report.failures[:30])
    views = views_before + report.ok[RECORD_VIEW]
    eventually(lambda: gateway.mobile_video(world.video_id)["video"]["viewCount"] == str(views),
               f"every recorded view counted once ({views})", timeout=30)
