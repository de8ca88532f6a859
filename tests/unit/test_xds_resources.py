"""The xDS resources built from a snapshot of healthy instances, and the snapshot's version."""

from __future__ import annotations

from typing import Any

from envoy.config.cluster.v3 import cluster_pb2
from envoy.extensions.filters.http.router.v3 import router_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm_pb2
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2

from mesh.xds import resources
from mesh.xds.snapshot import Instance, Snapshot, SnapshotStore

A = Instance("127.0.0.1", 50001)
B = Instance("127.0.0.2", 50002)
SNAPSHOT = Snapshot.of({"video-query": [B, A], "users": [A]})


def _built(snapshot: Snapshot, type_url: str, names: set[str] | None) -> list[Any]:
    # The envoy protos carry no type stubs: read the built messages untyped.
    return list(resources.build(snapshot, type_url, names))


def test_cluster_is_eds_over_ads_with_round_robin() -> None:
    cluster = resources.cluster("video-query")
    assert cluster.name == "video-query"
    assert cluster.type == cluster_pb2.Cluster.EDS
    assert cluster.eds_cluster_config.eds_config.HasField("ads")
    assert cluster.lb_policy == cluster_pb2.Cluster.ROUND_ROBIN
    assert cluster.connect_timeout.ToMilliseconds() > 0


def test_cluster_speaks_http2_to_its_instances() -> None:
    packed = resources.cluster("users").typed_extension_protocol_options[resources.HTTP_PROTOCOL_OPTIONS]
    options = http_protocol_options_pb2.HttpProtocolOptions()
    assert packed.Unpack(options)
    assert options.explicit_http_config.HasField("http2_protocol_options")


def test_cluster_ejects_an_instance_after_a_few_failures() -> None:
    outlier = resources.cluster("users").outlier_detection
    assert 0 < outlier.consecutive_5xx.value <= 5
    assert 0 < outlier.consecutive_gateway_failure.value <= 5
    assert outlier.enforcing_consecutive_gateway_failure.value == 100
    assert outlier.base_ejection_time.ToMilliseconds() > 0


def test_endpoints_are_the_healthy_instances_in_one_weighted_locality() -> None:
    assignment = resources.load_assignment("video-query", SNAPSHOT.services["video-query"])
    assert assignment.cluster_name == "video-query"
    [locality] = assignment.endpoints
    assert locality.locality.region
    assert locality.load_balancing_weight.value > 0
    addresses = [
        (e.endpoint.address.socket_address.address, e.endpoint.address.socket_address.port_value)
        for e in locality.lb_endpoints
    ]
    assert addresses == [("127.0.0.1", 50001), ("127.0.0.2", 50002)]


def test_a_service_without_healthy_instances_keeps_an_empty_assignment() -> None:
    [assignment] = _built(Snapshot.of({"email": []}), resources.ENDPOINT, {"email"})
    assert [len(locality.lb_endpoints) for locality in assignment.endpoints] == [0]


def test_listener_is_an_api_listener_asking_rds_for_the_service_route_with_faults_before_the_router() -> None:
    listener = resources.api_listener("video-query")
    assert listener.name == "video-query"
    manager = hcm_pb2.HttpConnectionManager()
    assert listener.api_listener.api_listener.Unpack(manager)
    assert manager.rds.config_source.HasField("ads")
    assert manager.rds.route_config_name == "video-query"
    fault, router = manager.http_filters
    assert fault.name == "envoy.filters.http.fault"
    assert router.typed_config.Is(router_pb2.Router.DESCRIPTOR)


def test_route_sends_every_call_to_the_service_cluster() -> None:
    route_config = resources.route_config(SNAPSHOT, "video-query")
    assert route_config.name == "video-query"
    [host] = route_config.virtual_hosts
    assert list(host.domains) == ["*"]
    [route] = host.routes
    assert route.match.prefix in ("", "/")
    assert route.route.cluster == "video-query"


def test_build_answers_the_named_resources_known_to_the_snapshot() -> None:
    assert [c.name for c in _built(SNAPSHOT, resources.CLUSTER, None)] == ["users", "video-query"]
    assert [c.name for c in _built(SNAPSHOT, resources.CLUSTER, {"users", "nope"})] == ["users"]
    assert [r.name for r in _built(SNAPSHOT, resources.ROUTE, {"video-query"})] == ["video-query"]


def test_version_depends_on_the_healthy_set_not_its_order() -> None:
    assert Snapshot.of({"a": [A, B], "b": []}).version == Snapshot.of({"b": [], "a": [B, A]}).version
    assert Snapshot.of({"a": [A, B]}).version != Snapshot.of({"a": [A]}).version
    assert Snapshot.of({"a": [A]}).version != Snapshot.of({"b": [A]}).version


def test_store_publishes_a_new_version_only_when_the_healthy_set_changes() -> None:
    store = SnapshotStore()
    seen: list[str] = []
    store.subscribe(lambda snapshot: seen.append(snapshot.version))
    assert store.set_instances("users", [A, B])
    assert not store.set_instances("users", [B, A])
    assert store.set_instances("users", [A])
    assert store.remove("users")
    assert not store.remove("users")
    assert len(seen) == 3 and len(set(seen)) == 3
    assert seen[-1] == Snapshot.of({}).version
