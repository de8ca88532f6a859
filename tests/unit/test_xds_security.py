"""What the control plane says about mutual TLS, per kind of client: every cluster expects its
servers' SPIFFE ids, in the dialect that client reads, and a secret goes only to its owner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2
from envoy.service.discovery.v3 import discovery_pb2

from mesh.identity import Credentials
from mesh.settings import load
from mesh.traffic.entries import compile_policy
from mesh.xds import gateway_routes, resources
from mesh.xds.ads import AdsStream
from mesh.xds.security import ENVOY, GRPC, MeshTls, Peer
from mesh.xds.snapshot import Instance, Routing, Snapshot, SnapshotStore
from tests.unit.fake_ca import FakeCa, spiffe

CA = FakeCa.create()


@dataclass(frozen=True)
class Fixed:
    """An identity that does not renew."""

    current: Credentials


TLS = MeshTls(Fixed(CA.credentials("xds")), Fixed(CA.credentials("gateway")))
SNAPSHOT = Snapshot.of({"video-query": [Instance("127.0.3.1", 7030, "video-query")],
                        "users-test-1": [Instance("127.0.1.1", 7010, "users")],
                        "legacy": [Instance("127.0.9.1", 7090)]})


def _built(type_url: str, names: set[str] | None, **kwargs: Any) -> list[Any]:
    # The envoy protos carry no type stubs: read the built messages untyped.
    return list(resources.build(SNAPSHOT, type_url, names, **kwargs))


def _tls(cluster: Any) -> Any:
    assert cluster.transport_socket.name == "envoy.transport_sockets.tls"
    context = tls_pb2.UpstreamTlsContext()
    assert cluster.transport_socket.typed_config.Unpack(context)
    return context.common_tls_context


def _cluster(name: str, peer: Peer) -> Any:
    [cluster] = _built(resources.CLUSTER, {name}, peer=peer, tls=TLS)
    return cluster


def test_a_proxyless_client_matches_the_san_with_the_field_grpc_reads() -> None:
    common = _tls(_cluster("video-query", Peer(GRPC)))
    assert [m.exact for m in common.validation_context.match_subject_alt_names] == [spiffe("video-query")]
    # grpc 1.85 ignores the typed matchers: with only those it would take any certificate of the CA.
    assert not common.validation_context.match_typed_subject_alt_names
    assert common.tls_certificate_provider_instance.instance_name == "vidmesh"
    assert common.validation_context.ca_certificate_provider_instance.instance_name == "vidmesh"


def test_envoy_matches_typed_uri_sans_and_takes_its_certificate_over_sds() -> None:
    common = _tls(_cluster("video-query", Peer(ENVOY, "gateway")))
    [matcher] = common.combined_validation_context.default_validation_context.match_typed_subject_alt_names
    assert matcher.san_type == matcher.URI and matcher.matcher.exact == spiffe("video-query")
    assert [c.name for c in common.tls_certificate_sds_secret_configs] == ["gateway"]
    assert common.tls_certificate_sds_secret_configs[0].sds_config.HasField("ads")
    assert common.combined_validation_context.validation_context_sds_secret_config.name == "roots"
    assert list(common.alpn_protocols) == ["h2"]


def test_a_cluster_expects_the_identity_its_instances_registered_else_its_name() -> None:
    users = _tls(_cluster("users-test-1", Peer(GRPC)))
    assert [m.exact for m in users.validation_context.match_subject_alt_names] == [spiffe("users")]
    legacy = _tls(_cluster("legacy", Peer(GRPC)))
    assert [m.exact for m in legacy.validation_context.match_subject_alt_names] == [spiffe("legacy")]


def test_with_mtls_off_clusters_have_no_transport_socket() -> None:
    [cluster] = _built(resources.CLUSTER, {"video-query"})
    assert not cluster.HasField("transport_socket")


def test_the_gateway_gets_its_certificate_and_the_roots_others_only_the_roots() -> None:
    names = {"gateway", "roots"}
    gateway = {s.name: s for s in _built(resources.SECRET, names, peer=Peer(ENVOY, "gateway"),
                                                  tls=TLS)}
    assert set(gateway) == names
    assert "BEGIN CERTIFICATE" in gateway["gateway"].tls_certificate.certificate_chain.inline_string
    assert "PRIVATE KEY" in gateway["gateway"].tls_certificate.private_key.inline_string
    assert gateway["roots"].validation_context.trusted_ca.inline_string == CA.pem.strip() + "\n"
    for peer in (Peer(ENVOY, "intruder"), Peer(ENVOY, None), Peer(GRPC, "web-bff")):
        assert [s.name for s in _built(resources.SECRET, names, peer=peer, tls=TLS)] == ["roots"]


def test_one_instance_by_address_gets_all_four_resources_expecting_its_identity() -> None:
    name = "video-command@127.0.2.1:7020"
    built = {type_url: _built(type_url, {name}, tls=TLS)
             for type_url in (resources.LISTENER, resources.ROUTE, resources.CLUSTER, resources.ENDPOINT)}
    assert all(len(items) == 1 and getattr(items[0], "name", name) == name
               for type_url, items in built.items() if type_url != resources.ENDPOINT)
    [assignment] = built[resources.ENDPOINT]
    [endpoint] = assignment.endpoints[0].lb_endpoints
    assert (endpoint.endpoint.address.socket_address.address, endpoint.endpoint.address.socket_address.port_value) == (
        "127.0.2.1", 7020)
    common = _tls(built[resources.CLUSTER][0])
    assert [m.exact for m in common.validation_context.match_subject_alt_names] == [spiffe("video-command")]


def test_an_address_that_names_nothing_gets_nothing() -> None:
    for name in ("video-command@nowhere.invalid:7020", "video-command@127.0.0.1:99999", "Video@127.0.0.1:1"):
        assert _built(resources.CLUSTER, {name}, tls=TLS) == []
    # a wildcard subscription lists the registered services alone
    assert [c.name for c in _built(resources.CLUSTER, None, tls=TLS)] == sorted(SNAPSHOT.services)


def test_envoy_is_sent_its_secrets_before_the_clusters_that_use_them() -> None:
    store = SnapshotStore()
    store.set_instances("users", [Instance("127.0.1.1", 7010, "users")])
    store.mark_ready()
    stream = AdsStream(store, "ipv4:127.0.0.1:1", tls=TLS, identity="gateway")
    for type_url, names in ((resources.CLUSTER, ()), (resources.SECRET, ("gateway", "roots"))):
        request = discovery_pb2.DiscoveryRequest(type_url=type_url, resource_names=names)
        request.node.user_agent_name = "envoy"
        stream.on_request(request)
    owed = stream.due(store.current)
    assert [response.type_url for response in owed] == [resources.SECRET, resources.CLUSTER]
    assert len(owed[0].resources) == 2


def test_a_renewed_certificate_is_sent_again() -> None:
    store = SnapshotStore()
    store.mark_ready()
    identity = Fixed(CA.credentials("xds"))
    tls = MeshTls(identity, identity)
    stream = AdsStream(store, "ipv4:127.0.0.1:1", tls=tls, identity="gateway")
    stream.on_request(discovery_pb2.DiscoveryRequest(type_url=resources.SECRET, resource_names=["gateway"]))
    [first] = stream.due(store.current)
    assert stream.due(store.current) == []
    object.__setattr__(identity, "current", CA.credentials("xds"))  # renewed
    [again] = stream.due(store.current)
    assert again.version_info != first.version_info


def _canary_snapshot() -> Snapshot:
    """web-bff at two versions, split 90/10 by its policy, and the gateway's route table."""
    policy = compile_policy(
        "web-bff", resolver={"DefaultSubset": "v1", "Subsets": {
            "v1": {"Filter": 'Service.Meta.version == "1"'}, "v2": {"Filter": 'Service.Meta.version == "2"'}}},
        splitter={"Splits": [{"Weight": 90, "ServiceSubset": "v1"}, {"Weight": 10, "ServiceSubset": "v2"}]})
    table = gateway_routes.load(gateway_routes.ROUTES_FILE, gateway_routes.values(load(environ={})))
    instances = [Instance("127.0.5.1", 7050, "web-bff", meta=(("identity", "web-bff"), ("version", "1"))),
                 Instance("127.0.5.2", 7051, "web-bff", meta=(("identity", "web-bff"), ("version", "2")))]
    return Snapshot.of({"web-bff": instances, "users": [Instance("127.0.1.1", 7010, "users")]},
                       {"web-bff": policy}, Routing(gateway=table))


def _served(snapshot: Snapshot, type_url: str, names: set[str] | None, peer: Peer) -> list[Any]:
    return list(resources.build(snapshot, type_url, names, peer=peer, tls=TLS))


@pytest.mark.parametrize("peer", [Peer(GRPC), Peer(ENVOY, "gateway")], ids=["proxyless", "envoy"])
def test_a_subset_cluster_is_mutual_tls_expecting_its_service_identity(peer: Peer) -> None:
    built = {c.name: c for c in _served(_canary_snapshot(), resources.CLUSTER, None, peer)}
    assert set(built) == {"users", "web-bff", "web-bff/v1", "web-bff/v2"}
    for name in ("web-bff", "web-bff/v1", "web-bff/v2"):
        common = _tls(built[name])
        if peer.flavour == GRPC:
            sans = [m.exact for m in common.validation_context.match_subject_alt_names]
        else:
            sans = [m.matcher.exact for m in
                    common.combined_validation_context.default_validation_context.match_typed_subject_alt_names]
        assert sans == [spiffe("web-bff")], name
    # the policy's own settings are still there: retry budget, outlier detection
    assert built["web-bff/v2"].circuit_breakers.thresholds[0].HasField("retry_budget")
    assert built["web-bff/v2"].outlier_detection.failure_percentage_threshold.value == 85


def test_envoy_gets_the_gateway_table_with_the_split_and_clusters_for_every_route_it_names() -> None:
    snapshot = _canary_snapshot()
    peer = Peer(ENVOY, "gateway")
    [table] = _served(snapshot, resources.ROUTE, {gateway_routes.NAME}, peer)
    named = {c.name for r in table.virtual_hosts[0].routes if r.HasField("route")
             for c in r.route.weighted_clusters.clusters} | {
        r.route.cluster for r in table.virtual_hosts[0].routes if r.HasField("route") and r.route.cluster}
    assert {"web-bff/v1", "web-bff/v2", "users"} <= named
    secured = {c.name for c in _served(snapshot, resources.CLUSTER, None, peer) if c.HasField("transport_socket")}
    # every cluster the table sends to, of a registered service, is one Envoy has, over mTLS
    assert {name for name in named if name.split("/")[0] in snapshot.services} <= secured
    [assignment] = _served(snapshot, resources.ENDPOINT, {"web-bff/v2"}, peer)
    assert [e.endpoint.address.socket_address.port_value for e in assignment.endpoints[0].lb_endpoints] == [7051]
