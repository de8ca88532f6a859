"""kill -9 of one of two video-query instances while reads run: no read fails, and the
gateway stops routing to it within 2 s of Consul marking its check critical."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from scripts.devstack.stack import Stack
from tests.e2e.conftest import World
from tests.e2e.support.grpc_gateway import GatewayGrpc
from tests.e2e.support.instances import assert_in_stack, bring_back, instances, kill9, restore_routable
from tests.e2e.support.load import Call, Load
from tests.e2e.support.registry import Consul, EnvoyAdmin, wait_routable
from tests.e2e.support.rest import Gateway, ok
from tests.e2e.support.waiting import eventually

OUT_OF_ROUTING_S = 2.0


def reads(world: World, grpc: GatewayGrpc) -> list[tuple[str, Call]]:
    """REST and gRPC through the gateway to the mobile BFF, which reads video-query over
    proxyless gRPC."""

    def rest(client: Gateway, _: int) -> str | None:
        answer = ok(client.get(f"/api/mobile/v1/videos/{world.video_id}"))
        return None if answer["video"]["videoId"] == world.video_id else f"wrong video {answer}"

    def grpc_read(_: Gateway, __: int) -> str | None:
        answer = grpc.get_video(world.video_id)
        return None if answer.video.video_id == world.video_id else f"wrong video {answer}"

    return [("GET /api/mobile/v1/videos/{id}", rest), ("gRPC MobileBffService/GetVideo", grpc_read)]


def test_kill9_of_a_video_query_instance_fails_no_read(gateway: Gateway, world: World, stack: Stack,
                                                         consul: Consul, envoy: EnvoyAdmin) -> None:
    victim, survivor = instances(stack.settings, "video-query")
    assert_in_stack(stack, [victim, survivor])
    for instance in (victim, survivor):
        wait_routable(consul, envoy, instance)
    grpc, watcher = GatewayGrpc(stack.settings), Consul(stack.settings)
    load = Load(str(gateway.http.base_url), [reads(world, grpc), reads(world, grpc)])
    try:
        with load, ThreadPoolExecutor(1) as pool:
            eventually(lambda: load.report.total >= 20, "reads flowing before the kill")
            critical = pool.submit(watcher.wait_status, "video-query", victim.service_id, {"critical"}, 20.0)
            kill9(stack, victim)
            gone_at = envoy.wait_listed("video-query", victim.address, listed=False, timeout=20)
            critical_at = critical.result(timeout=25)
            after_kill = load.report.total
            eventually(lambda: load.report.total >= after_kill + 20, "reads after the endpoint left")
            bring_back(stack, victim, consul, envoy)
            back = load.report.total
            eventually(lambda: load.report.total >= back + 20, "reads after the instance came back")
    finally:
        grpc.close()
        restore_routable(stack, [victim], consul, envoy)
    lag = gone_at - critical_at
    print(f"\nkill -9 {victim.name}: {load.report.total} reads ok, {len(load.report.failures)} failed; "
          f"out of the gateway's routing {lag:+.2f}s after Consul marked it critical")
    assert not load.report.failures, "\n".join(load.report.failures[:20])
    assert lag <= OUT_OF_ROUTING_S, f"still routed {lag:.2f}s after its check went critical"
