"""The gateway's route table (gateway/routes.yaml) as the control plane serves it over RDS:
it loads, it retries a response code only where every call it takes is safe to repeat, a
policy turns its routes into weighted clusters without ever retrying a write that has no
request_id (users' Login), and a REST path answers 405 to a method it has no binding for."""

from __future__ import annotations

import re

import pytest
from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.config.route.v3 import route_pb2

from mesh.settings import ROOT, load
from mesh.traffic.entries import compile_policy
from mesh.traffic.methods import Catalog
from mesh.xds import gateway_routes

CATALOG = Catalog.from_descriptor_set(ROOT / "gen" / "vidmesh.binpb")  # `make protos` writes it
LOGIN_REST = "/api/auth/v1/login"
# Retry conditions that may repeat a call an instance already received.
AFTER_RECEIPT = {"unavailable", "reset", "5xx", "gateway-error", "retriable-status-codes", "cancelled",
                 "deadline-exceeded", "internal", "resource-exhausted"}


@pytest.fixture(scope="module")
def table() -> route_pb2.RouteConfiguration:
    return gateway_routes.load(gateway_routes.ROUTES_FILE, gateway_routes.values(load(environ={})))


def _method_header(match: rc.RouteMatch) -> str | None:
    for header in match.headers:
        if header.name == ":method":
            which = header.string_match.WhichOneof("match_pattern")
            return str(header.string_match.exact) if which == "exact" else str(header.string_match.safe_regex.regex)
    return None


def _calls(match: rc.RouteMatch) -> list[tuple[str, bool]]:
    """(path, safe) of every gRPC call and REST binding the route's path (and :method) takes."""
    verb = _method_header(match)
    taken = []
    for method in CATALOG.methods.values():
        if verb is None and gateway_routes.takes(match, method.path):
            taken.append((method.path, method.safe))
        for rest_verb, template in method.rest:
            sample = re.sub(r"\{[^}]*\}", "x", template)
            if (verb is None or re.fullmatch(verb, rest_verb)) and gateway_routes.takes(match, sample):
                taken.append((sample, method.safe))
    return taken


def _after_receipt(route: rc.Route) -> set[str]:
    return set(route.route.retry_policy.retry_on.split(",")) & AFTER_RECEIPT if route.HasField("route") else set()


def test_the_table_loads_with_the_settings_filled_in(table: route_pb2.RouteConfiguration) -> None:
    (host,) = table.virtual_hosts
    assert table.name == gateway_routes.NAME
    clusters = {route.route.cluster for route in host.routes if route.HasField("route")}
    assert clusters >= {"users", "web-bff", "mobile-bff"}
    assert "${" not in str(table)


def test_a_response_code_is_retried_only_where_every_call_is_safe(table: route_pb2.RouteConfiguration) -> None:
    retrying = [route for route in table.virtual_hosts[0].routes if _after_receipt(route)]
    assert len(retrying) >= 4  # REST and gRPC reads of both BFFs
    for route in retrying:
        calls = _calls(route.match)
        assert calls, route.match
        assert all(safe for _, safe in calls), (route.match, [path for path, safe in calls if not safe])


def test_a_policy_splits_the_routes_of_its_cluster(table: route_pb2.RouteConfiguration) -> None:
    policy = compile_policy(
        "web-bff", resolver={"DefaultSubset": "v1", "Subsets": {
            "v1": {"Filter": 'Service.Meta.version == "1"'}, "v2": {"Filter": 'Service.Meta.version == "2"'}}},
        splitter={"Splits": [{"Weight": 90, "ServiceSubset": "v1"}, {"Weight": 10, "ServiceSubset": "v2"}]})
    rendered = gateway_routes.render(table, {"web-bff": policy}, CATALOG)
    routes = rendered.virtual_hosts[0].routes
    split = [r for r in routes if r.HasField("route") and r.route.HasField("weighted_clusters")]
    assert split and all({(c.name, c.weight.value) for c in r.route.weighted_clusters.clusters}
                         == {("web-bff/v1", 9000), ("web-bff/v2", 1000)} for r in split)
    assert not any(r.route.cluster == "web-bff" for r in routes if r.HasField("route"))
    assert any(r.route.cluster == "users" for r in routes if r.HasField("route"))  # no policy: as declared


def test_a_policy_retrying_everything_leaves_a_write_without_request_id_unretried(
        table: route_pb2.RouteConfiguration) -> None:
    policy = compile_policy("users", router={"Routes": [
        {"Destination": {"NumRetries": 3, "RetryOn": ["unavailable"], "RequestTimeout": "2s"}}]})
    routes = list(gateway_routes.render(table, {"users": policy}, CATALOG).virtual_hosts[0].routes)

    def first_taking(path: str, verb: str = "POST") -> rc.Route:
        return next(route for route in routes if _takes(route, verb, path))

    for path in (LOGIN_REST, "/vidmesh.users.v1.UserService/Login"):
        login = first_taking(path)
        assert login.route.cluster == "users" and not _after_receipt(login), (path, login)
        assert login.route.timeout.seconds == 2  # the policy's timeout still applies
    register = first_taking("/vidmesh.users.v1.UserService/Register")
    assert "unavailable" in _after_receipt(register) and register.route.retry_policy.num_retries.value == 3


def _takes(route: rc.Route, verb: str, path: str) -> bool:
    """Whether Envoy would match `verb path` to the route: its path, then its :method and
    :path headers (exact, prefix or regex; inverted or not). Other headers never match here."""
    def header(matcher: rc.HeaderMatcher) -> bool:
        value = {":method": verb, ":path": path}.get(matcher.name)
        string = matcher.string_match
        hit = value is not None and (
            re.fullmatch(string.safe_regex.regex, value) is not None if string.HasField("safe_regex")
            else value.startswith(string.prefix) if string.prefix else value == string.exact)
        return hit != bool(matcher.invert_match)
    return gateway_routes.takes(route.match, path) and all(header(h) for h in route.match.headers)


def test_a_rest_path_refuses_the_methods_it_has_no_binding_for_with_405_and_allow(
        table: route_pb2.RouteConfiguration) -> None:
    routes = list(gateway_routes.render(table, {}, CATALOG).virtual_hosts[0].routes)

    def first(verb: str, path: str) -> rc.Route:
        return next(route for route in routes if _takes(route, verb, path))

    paths = gateway_routes.rest_verbs(CATALOG)
    assert paths["/api/web/v1/videos/[^/:]+/comments"][1] == {"GET", "POST"}
    for sample, verbs in paths.values():
        for verb in verbs:  # what a binding takes reaches a cluster
            assert first(verb, sample).HasField("route"), (verb, sample)
        refused = first("DELETE", sample)
        assert refused.direct_response.status == 405, sample
        assert [(h.header.key, h.header.value) for h in refused.response_headers_to_add] == [
            ("allow", ", ".join(sorted(verbs)))]
        assert refused.typed_per_filter_config[gateway_routes.TRANSCODER].Unpack(config := rc.FilterConfig())
        assert config.disabled  # or the transcoder's 404 would answer first
    assert first("GET", LOGIN_REST).direct_response.status == 405
    # A custom verb is a path of its own: GET on `:like` is refused, POST on the video is too.
    assert first("GET", "/api/web/v1/videos/x:like").direct_response.status == 405
    assert first("POST", "/api/web/v1/videos/x").direct_response.status == 405
    # A path no binding has is left to the transcoder (404), as is every gRPC path.
    assert not first("DELETE", "/api/web/v1/no-such-route").HasField("direct_response")
    assert first("POST", "/vidmesh.webbff.v1.WebBffService/GetHome").route.cluster == "web-bff"
