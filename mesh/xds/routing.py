"""A service's traffic policy as xDS routes, the same for Envoy and for proxyless gRPC.

A destination becomes a RouteAction: its targets a cluster or weighted clusters (a subset is
the cluster `service/subset`), its timeout both `timeout` (Envoy's wait for the upstream) and
`max_stream_duration` (which proxyless gRPC reads as the call's deadline, gRFC A31, and which
in Envoy also bounds an injected delay, so a delayed call ends in DEADLINE_EXCEEDED / 504 on
time), its retries a RetryPolicy. A fault becomes the route's `envoy.filters.http.fault`
config (gRFC A33). Retries are only ever given to calls that are safe to repeat: where a
route with retries also takes writes without request_id, those writes get routes of their
own, first, without the policy's retries.
"""

from __future__ import annotations

from collections.abc import Sequence

from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.extensions.filters.http.fault.v3 import fault_pb2
from envoy.extensions.retry.host.previous_hosts.v3 import previous_hosts_pb2
from envoy.type.v3 import percent_pb2
from google.protobuf import any_pb2, duration_pb2, wrappers_pb2

from mesh.traffic.methods import Catalog
from mesh.traffic.policy import Destination, Fault, PathMatch, Retry, ServicePolicy, cluster_name

FAULT_FILTER = "envoy.filters.http.fault"
BACKOFF_BASE_S, BACKOFF_MAX_S = 0.025, 0.25  # Envoy's and gRPC's defaults, written out
HOST_SELECTION_ATTEMPTS = 3  # Envoy: a retry tries another instance first


def seconds(value: float) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromNanoseconds(round(value * 1e9))
    return duration


def _packed(message: fault_pb2.HTTPFault | previous_hosts_pb2.PreviousHostsPredicate) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def _share(percent: float) -> percent_pb2.FractionalPercent:
    return percent_pb2.FractionalPercent(numerator=round(percent * 10000),
                                         denominator=percent_pb2.FractionalPercent.MILLION)


def fault_config(fault: Fault) -> fault_pb2.HTTPFault:
    """The fault filter's config: a fixed delay and/or a gRPC status, each for a share of calls."""
    config = fault_pb2.HTTPFault()
    if fault.delay_percent and fault.delay_s:
        config.delay.fixed_delay.CopyFrom(seconds(fault.delay_s))
        config.delay.percentage.CopyFrom(_share(fault.delay_percent))
    if fault.abort_percent and fault.abort_code:
        config.abort.grpc_status = fault.abort_code
        config.abort.percentage.CopyFrom(_share(fault.abort_percent))
    return config


def retry_policy(retry: Retry) -> rc.RetryPolicy:
    """Envoy's RetryPolicy; proxyless gRPC reads the status conditions, the count and the backoff."""
    policy = rc.RetryPolicy(
        retry_on=",".join(retry.retry_on),
        retry_back_off=rc.RetryPolicy.RetryBackOff(base_interval=seconds(BACKOFF_BASE_S),
                                                   max_interval=seconds(BACKOFF_MAX_S)),
        host_selection_retry_max_attempts=HOST_SELECTION_ATTEMPTS,
        retry_host_predicate=[rc.RetryPolicy.RetryHostPredicate(
            name="envoy.retry_host_predicates.previous_hosts",
            typed_config=_packed(previous_hosts_pb2.PreviousHostsPredicate()))],
    )
    if retry.num_retries:
        policy.num_retries.CopyFrom(wrappers_pb2.UInt32Value(value=retry.num_retries))
    return policy


def apply(action: rc.RouteAction, service: str, destination: Destination, retries: bool) -> rc.RouteAction:
    """`action` sent to `destination`: its clusters and weights, its timeout and, when `retries`
    (the route takes only safe calls), its retries. What the destination leaves unsaid stays."""
    result = rc.RouteAction()
    result.CopyFrom(action)
    targets = destination.targets
    if len(targets) == 1 and targets[0].weight:
        result.cluster = cluster_name(service, targets[0].subset)
    else:
        result.weighted_clusters.CopyFrom(rc.WeightedCluster(clusters=[
            rc.WeightedCluster.ClusterWeight(name=cluster_name(service, t.subset),
                                             weight=wrappers_pb2.UInt32Value(value=t.weight)) for t in targets]))
    if destination.timeout_s:
        result.timeout.CopyFrom(seconds(destination.timeout_s))
        result.max_stream_duration.max_stream_duration.CopyFrom(seconds(destination.timeout_s))
    if destination.retry and retries:
        result.retry_policy.CopyFrom(retry_policy(destination.retry))
    return result


def with_fault(route: rc.Route, fault: Fault | None) -> rc.Route:
    """`route` with the service's fault, if it has one."""
    if fault is not None:
        route.typed_per_filter_config[FAULT_FILTER].CopyFrom(_packed(fault_config(fault)))
    return route


def path_match(match: PathMatch) -> rc.RouteMatch:
    """A router route's match as an xDS RouteMatch on the gRPC path."""
    if match.exact is not None:
        return rc.RouteMatch(path=match.exact)
    return rc.RouteMatch(prefix=match.prefix or "/")


def carved(match: PathMatch, destination: Destination, catalog: Catalog) -> list[str]:
    """The writes without request_id that a route with retries would take: they get exact
    routes of their own, without the retries."""
    return [m.path for m in catalog.unsafe(match.takes)] if destination.retry else []


def service_routes(service: str, policy: ServicePolicy | None, catalog: Catalog) -> list[rc.Route]:
    """What a proxyless client of `service` routes by: the router's routes, then the default."""
    base = rc.RouteAction(cluster=service)
    if policy is None:
        return [rc.Route(match=rc.RouteMatch(prefix="/"), route=base)]
    routes: list[rc.Route] = []
    chain: Sequence[tuple[PathMatch, Destination]] = [
        *((r.match, r.destination) for r in policy.routes), (PathMatch(), policy.default)]
    for match, destination in chain:
        for path in carved(match, destination, catalog):
            routes.append(with_fault(rc.Route(match=rc.RouteMatch(path=path),
                                              route=apply(base, service, destination, retries=False)), policy.fault))
        routes.append(with_fault(rc.Route(match=path_match(match),
                                          route=apply(base, service, destination, retries=True)), policy.fault))
        if match.everything:
            break  # Consul's order: nothing after a route that takes every call is reached
    return routes


