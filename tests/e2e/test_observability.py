"""Seeing the mesh work, as a user's action leaves it: one trace in Jaeger from the gateway to
the mail, and every instance found by Prometheus through Consul and scraped."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from mesh import topology
from mesh.settings import Settings
from scripts import trace
from scripts.devstack.stack import Stack
from tests.e2e.conftest import World
from tests.e2e.support.instances import frozen, instances, restore_routable
from tests.e2e.support.registry import Consul, EnvoyAdmin
from tests.e2e.support.rest import Gateway, new_id, ok
from tests.e2e.support.waiting import eventually

# The five the issue names, email at the end of the story (a follower gets a mail), and
# recommendations (Go), which consumes VideoPublished too.
SERVICES = {"envoy", "web-bff", "video-command", "video-query", "notification", "email", "recommendations"}


@pytest.fixture(scope="module")
def published(gateway: Gateway, world: World, settings: Settings) -> tuple[str, str, list[trace.Span]]:
    """A new video of the world's owner (who has a follower), published with a traceparent the
    client chose; (trace id, the client's span id, the trace's spans once every service is in)."""
    trace_id, client_span = secrets.token_hex(16), secrets.token_hex(8)
    video_id, version = gateway.create_video(world.owner, "Traced otters")
    headers = {**world.owner.auth, "traceparent": f"00-{trace_id}-{client_span}-01"}
    ok(gateway.http.post(f"/api/web/v1/videos/{video_id}:publish", headers=headers,
                         json={"requestId": new_id(), "expectedVersion": str(version)}))
    spans = trace.wait_for(trace.query_url(settings), trace_id, SERVICES, timeout=45)
    return trace_id, client_span, spans


def test_a_publish_is_one_trace_from_the_gateway_to_the_mail(published: tuple[str, str, list[trace.Span]]) -> None:
    trace_id, client_span, spans = published
    assert {span.service for span in spans} >= SERVICES, trace.waterfall(spans)
    assert {span.trace_id for span in spans} == {trace_id}
    ids = {span.span_id for span in spans}
    # One root, Envoy's, continuing the client's span; every other span hangs under the trace.
    roots = [span for span in spans if span.parent_id not in ids]
    assert [(root.service, root.parent_id) for root in roots] == [("envoy", client_span)], trace.waterfall(spans)
    assert roots[0].name.startswith("POST /vidmesh.webbff.v1.WebBffService/")  # named by route, not "ingress"


def test_consumers_are_children_of_the_write_that_caused_them(published: tuple[str, str, list[trace.Span]]) -> None:
    _, _, spans = published
    by_id = {span.span_id: span for span in spans}
    write = next(s for s in spans if s.service == "video-command" and s.name == "outbox video.v1.events")
    for service in ("video-query", "notification", "recommendations"):
        processing = [s for s in spans if s.service == service and s.name == "process VideoPublished"]
        assert processing and all(s.parent_id == write.span_id for s in processing), trace.waterfall(spans)
    assert any(s.name == "send video.v1.events" and s.parent_id == write.span_id for s in spans)
    mail = next(s for s in spans if s.service == "email" and s.name == "smtp send")
    assert by_id[by_id[mail.parent_id].parent_id].name == "outbox notification.v1.events"  # process, then write
    assert not [s for s in spans if s.error], trace.waterfall(spans)


def prometheus(settings: Settings, path: str, **params: str) -> Any:
    answer = httpx.get(f"http://{settings.host}:{settings.prometheus_port}{path}", params=params, timeout=10)
    answer.raise_for_status()
    return answer.json()["data"]


def test_prometheus_scrapes_every_instance_it_finds_in_consul(settings: Settings, consul: Consul) -> None:
    # Every service, whatever its language: mesh/runtime.py and gomesh both serve /metrics.
    registered = {(entry.name, instance["Meta"]["hostname"]) for entry in topology.SERVICES
                  for instance in consul.passing(entry.name)}
    assert all(instance["Meta"].get("metrics_port") for entry in topology.SERVICES
               for instance in consul.passing(entry.name))
    assert len(registered) == sum(settings.instance_count(entry.key) for entry in topology.SERVICES)  # canaries too
    assert any(name == "recommendations" for name, _ in registered)  # the Go service among them

    def up() -> set[tuple[str, str]] | None:
        targets = prometheus(settings, "/api/v1/targets", state="active")["activeTargets"]
        healthy = {(t["labels"]["service"], t["labels"]["instance"]) for t in targets
                   if t["labels"]["job"] == "vidmesh" and t["health"] == "up"}
        return healthy if registered <= healthy else None

    eventually(up, "every registered instance up in Prometheus", timeout=30, interval=1)
    targets = prometheus(settings, "/api/v1/targets", state="active")["activeTargets"]
    assert any(t["labels"]["job"] == "envoy" and t["health"] == "up" for t in targets)


def test_the_rpc_rate_of_video_query_rises_with_traffic(settings: Settings, gateway: Gateway, world: World) -> None:
    for _ in range(10):
        gateway.video_page(world.video_id, world.version)  # each page reads video-query

    def rate() -> float | None:
        result = prometheus(settings, "/api/v1/query",
                            query='sum(rate(grpc_server_handled_total{service="video-query"}[1m]))')["result"]
        value = float(result[0]["value"][1]) if result else 0.0
        return value if value > 0 else None

    assert (eventually(rate, "video-query's RPC rate above zero", timeout=40, interval=1) or 0) > 0


def test_a_frozen_instance_is_down_in_prometheus_until_it_answers_again(settings: Settings, stack: Stack,
                                                                         consul: Consul, envoy: EnvoyAdmin) -> None:
    instance = instances(settings, "video-query")[-1]

    def health() -> str | None:
        targets = prometheus(settings, "/api/v1/targets", state="active")["activeTargets"]
        mine = [t["health"] for t in targets if t["labels"]["job"] == "vidmesh"
                and t["labels"]["service"] == instance.service and t["labels"]["instance"] == instance.name]
        return mine[0] if mine else None

    assert eventually(lambda: health() == "up" or None, f"{instance.name} up in Prometheus", timeout=30, interval=1)
    try:
        with frozen(stack, [instance]):  # still in Consul's catalog, but its /metrics answers nothing
            eventually(lambda: health() == "down" or None, f"{instance.name} down in Prometheus", timeout=30,
                       interval=1)
    finally:
        restore_routable(stack, [instance], consul, envoy)
    eventually(lambda: health() == "up" or None, f"{instance.name} up again in Prometheus", timeout=30, interval=1)
