"""UNAVAILABLE is 503 with a JSON body naming what is missing: no instance of video-query is
up, so the BFF cannot fetch the video (then both come back and the video reads again)."""

from __future__ import annotations

from scripts.devstack.stack import Stack
from tests.e2e.conftest import World
from tests.e2e.support.instances import assert_in_stack, instances, restore_routable
from tests.e2e.support.registry import Consul, EnvoyAdmin
from tests.e2e.support.rest import Gateway, body
from tests.e2e.support.waiting import eventually


def test_no_video_query_instance_is_503_naming_it(gateway: Gateway, world: World, stack: Stack, consul: Consul,
                                                   envoy: EnvoyAdmin) -> None:
    video_query = instances(stack.settings, "video-query")
    assert_in_stack(stack, video_query)
    gateway.mobile_video(world.video_id)  # readable before
    try:
        for instance in video_query:
            stack.pc.stop_process(instance.name)
        assert not consul.passing_ids("video-query"), "a video-query instance still passes"

        def unavailable() -> bool:
            response = gateway.get(f"/api/mobile/v1/videos/{world.video_id}")
            assert response.status_code == 503, f"{response.status_code} {response.text[:300]}"
            return True

        # The BFF learns of the empty set from the control plane a moment after Consul.
        eventually(unavailable, "503 once no video-query instance is up", timeout=10)
        answer = body(gateway.get(f"/api/mobile/v1/videos/{world.video_id}"))
        assert "video-query" in answer["message"] and "unavailable" in answer["message"], answer
    finally:
        restore_routable(stack, video_query, consul, envoy)
    assert gateway.mobile_video(world.video_id)["video"]["videoId"] == world.video_id
