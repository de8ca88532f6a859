"""Pure builders: a snapshot of healthy instances and traffic policies in, Envoy v3 xDS
resources out.

Per Consul service `name`: a Cluster `name` (EDS over ADS, round robin, HTTP/2, outlier
detection and a retry budget) and one per subset of its policy (`name/v2`), the
ClusterLoadAssignment of each, and for proxyless gRPC clients a Listener `name` whose
api_listener asks RDS for the RouteConfiguration `name`: the service's policy as routes
(mesh/xds/routing.py). Envoy asks RDS for `gateway`: the gateway's route table with every
policy applied (mesh/xds/gateway_routes.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from envoy.config.cluster.v3 import circuit_breaker_pb2, cluster_pb2, outlier_detection_pb2
from envoy.config.core.v3 import address_pb2, base_pb2, config_source_pb2, health_check_pb2, protocol_pb2
from envoy.config.endpoint.v3 import endpoint_components_pb2, endpoint_pb2
from envoy.config.listener.v3 import api_listener_pb2, listener_pb2
from envoy.config.route.v3 import route_components_pb2, route_pb2
from envoy.extensions.filters.http.fault.v3 import fault_pb2
from envoy.extensions.filters.http.router.v3 import router_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm_pb2
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2
from envoy.type.v3 import percent_pb2
from google.protobuf import any_pb2, duration_pb2, wrappers_pb2
from google.protobuf.message import Message

from mesh.traffic.policy import cluster_name
from mesh.xds import gateway_routes, routing
from mesh.xds.snapshot import Instance, Snapshot

LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener"
ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
ENDPOINT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
# Make before break: a client learns a cluster before its endpoints, a route before its use.
TYPE_ORDER = (CLUSTER, ENDPOINT, LISTENER, ROUTE)

HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
# Proxyless gRPC ignores a LocalityLbEndpoints without a locality or with weight 0.
LOCALITY = base_pb2.Locality(region="vidmesh", zone="consul")
LOCALITY_WEIGHT = 1


def _ads() -> config_source_pb2.ConfigSource:
    return config_source_pb2.ConfigSource(
        ads=config_source_pb2.AggregatedConfigSource(), resource_api_version=config_source_pb2.V3
    )


def _seconds(value: float) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromNanoseconds(int(value * 1e9))
    return duration


def _http2_options() -> any_pb2.Any:
    options = http_protocol_options_pb2.HttpProtocolOptions(
        explicit_http_config=http_protocol_options_pb2.HttpProtocolOptions.ExplicitHttpConfig(
            http2_protocol_options=protocol_pb2.Http2ProtocolOptions()
        )
    )
    packed = any_pb2.Any()
    packed.Pack(options)
    return packed


def _outlier_detection() -> outlier_detection_pb2.OutlierDetection:
    # Small thresholds: a broken instance is ejected after a few failures, well before the
    # Consul check (1 s interval) removes it; at most half the hosts are ever ejected.
    # Proxyless gRPC reads only the failure-percentage fields (gRFC A50): an instance failing
    # more than 85% of at least 10 calls in a second is ejected, when its cluster has two or
    # more (gRPC would eject a lone instance, which helps no caller). gRPC counts every
    # non-OK status, NOT_FOUND too, hence the high threshold.
    return outlier_detection_pb2.OutlierDetection(
        consecutive_5xx=wrappers_pb2.UInt32Value(value=3),
        consecutive_gateway_failure=wrappers_pb2.UInt32Value(value=2),
        enforcing_consecutive_gateway_failure=wrappers_pb2.UInt32Value(value=100),
        failure_percentage_threshold=wrappers_pb2.UInt32Value(value=85),
        enforcing_failure_percentage=wrappers_pb2.UInt32Value(value=100),
        failure_percentage_minimum_hosts=wrappers_pb2.UInt32Value(value=2),
        failure_percentage_request_volume=wrappers_pb2.UInt32Value(value=10),
        interval=_seconds(1),
        base_ejection_time=_seconds(5),
        max_ejection_percent=wrappers_pb2.UInt32Value(value=50),
    )


def _retry_budget() -> circuit_breaker_pb2.CircuitBreakers:
    # Envoy: retries in flight may be at most 20% of the calls in flight (at least 3), so a
    # failing service is not hit by a storm of retries. Proxyless gRPC takes no budget over
    # xDS (gRFC A44); its retries are bounded per call (at most 4).
    budget = circuit_breaker_pb2.CircuitBreakers.Thresholds.RetryBudget(
        budget_percent=percent_pb2.Percent(value=20.0), min_retry_concurrency=wrappers_pb2.UInt32Value(value=3))
    return circuit_breaker_pb2.CircuitBreakers(thresholds=[
        circuit_breaker_pb2.CircuitBreakers.Thresholds(retry_budget=budget)])


def cluster(name: str, connect_timeout_s: float | None = None) -> cluster_pb2.Cluster:
    """An EDS cluster (a service, or one subset of it): endpoints over ADS, round robin, gRPC
    over HTTP/2."""
    result = cluster_pb2.Cluster(
        name=name,
        type=cluster_pb2.Cluster.EDS,
        eds_cluster_config=cluster_pb2.Cluster.EdsClusterConfig(eds_config=_ads()),
        lb_policy=cluster_pb2.Cluster.ROUND_ROBIN,
        connect_timeout=_seconds(connect_timeout_s or 1),
        outlier_detection=_outlier_detection(),
        circuit_breakers=_retry_budget(),
    )
    result.typed_extension_protocol_options[HTTP_PROTOCOL_OPTIONS].CopyFrom(_http2_options())
    return result


def _lb_endpoint(instance: Instance) -> endpoint_components_pb2.LbEndpoint:
    socket = address_pb2.SocketAddress(address=instance.address, port_value=instance.port)
    return endpoint_components_pb2.LbEndpoint(
        endpoint=endpoint_components_pb2.Endpoint(address=address_pb2.Address(socket_address=socket)),
        # Consul answered `passing=true`: only healthy instances ever get here.
        health_status=health_check_pb2.HEALTHY,
    )


def load_assignment(name: str, instances: Sequence[Instance]) -> endpoint_pb2.ClusterLoadAssignment:
    """The endpoints of cluster `name`: one weighted locality holding every healthy instance."""
    locality = endpoint_components_pb2.LocalityLbEndpoints(
        locality=LOCALITY,
        load_balancing_weight=wrappers_pb2.UInt32Value(value=LOCALITY_WEIGHT),
        lb_endpoints=[_lb_endpoint(instance) for instance in instances],
    )
    return endpoint_pb2.ClusterLoadAssignment(cluster_name=name, endpoints=[locality])


def api_listener(name: str) -> listener_pb2.Listener:
    """What `xds:///name` resolves first: an HTTP connection manager that asks RDS for `name`,
    with the fault filter (configured per route, by the service's policy) before the router."""
    manager = hcm_pb2.HttpConnectionManager(
        stat_prefix=name,
        rds=hcm_pb2.Rds(config_source=_ads(), route_config_name=name),
        http_filters=[hcm_pb2.HttpFilter(name=routing.FAULT_FILTER, typed_config=_packed(fault_pb2.HTTPFault())),
                      hcm_pb2.HttpFilter(name="envoy.filters.http.router", typed_config=_packed(router_pb2.Router()))],
    )
    return listener_pb2.Listener(name=name, api_listener=api_listener_pb2.ApiListener(api_listener=_packed(manager)))


def _packed(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def route_config(snapshot: Snapshot, name: str) -> route_pb2.RouteConfiguration:
    """How a proxyless client routes its calls to `name`: by the service's policy, or all to
    cluster `name` when it has none."""
    routes = routing.service_routes(name, snapshot.policies.get(name), snapshot.routing.catalog)
    host = route_components_pb2.VirtualHost(name=name, domains=["*"], routes=routes)
    return route_pb2.RouteConfiguration(name=name, virtual_hosts=[host])


def clusters(snapshot: Snapshot) -> dict[str, tuple[str, str | None]]:
    """Every cluster: name -> (service, subset), the services' own and their policies' subsets."""
    found: dict[str, tuple[str, str | None]] = {name: (name, None) for name in snapshot.services}
    for service, policy in snapshot.policies.items():
        if service in snapshot.services:
            found.update({cluster_name(service, subset): (service, subset) for subset in policy.subsets})
    return found


def _cluster(snapshot: Snapshot, name: str) -> Message:
    service, _ = clusters(snapshot)[name]
    policy = snapshot.policies.get(service)
    built: Message = cluster(name, policy.connect_timeout_s if policy else None)
    return built


def _endpoints(snapshot: Snapshot, name: str) -> Message:
    built: Message = load_assignment(name, snapshot.instances(*clusters(snapshot)[name]))
    return built


def _route(snapshot: Snapshot, name: str) -> Message:
    built: Message
    if name == gateway_routes.NAME and snapshot.routing.gateway is not None:
        built = gateway_routes.render(snapshot.routing.gateway, snapshot.policies, snapshot.routing.catalog)
    else:
        built = route_config(snapshot, name)
    return built


_BUILDERS: dict[str, tuple[Callable[[Snapshot], Collection[str]], Callable[[Snapshot, str], Message]]] = {
    CLUSTER: (lambda snapshot: clusters(snapshot).keys(), _cluster),
    ENDPOINT: (lambda snapshot: clusters(snapshot).keys(), _endpoints),
    LISTENER: (lambda snapshot: snapshot.services.keys(), lambda _, name: api_listener(name)),
    ROUTE: (lambda snapshot: [*snapshot.services, *([gateway_routes.NAME] if snapshot.routing.gateway else [])],
            _route),
}


def build(snapshot: Snapshot, type_url: str, names: Collection[str] | None) -> list[Message]:
    """The resources of `type_url` a client subscribed to (`names`; None = all), sorted by name.

    A name the snapshot does not know is left out: in the state of the world that tells the
    client it does not exist (or no longer does).
    """
    if type_url not in _BUILDERS:
        return []
    known, builder = _BUILDERS[type_url]
    wanted = known(snapshot) if names is None else [n for n in known(snapshot) if n in names]
    return [builder(snapshot, name) for name in sorted(wanted)]
