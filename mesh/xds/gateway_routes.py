"""The gateway's route table (gateway/routes.yaml), served to Envoy over RDS with each
service's traffic policy applied.

routes.yaml is an Envoy RouteConfiguration in YAML, the table Envoy's static config held
before: prefixes, clusters, timeouts, retries, the login rate limit, CORS. It is a template
(`${WEB_ORIGIN}`, `${LOGIN_BURST}`, filled from the settings) read once at start. A route
whose cluster has a policy becomes, in Consul's order, one route per service-router route
(the table's match, and the router's on `:path`), then the table's route itself sent to the
default destination (the splitter's weights). Retries of the policy go only where the route
takes safe calls; writes without request_id get exact routes of their own, first.

Before them all, each REST path of the contracts that the table routes gets a 405 for the
methods none of its bindings takes, with `Allow` naming those that do (the transcoder alone
would answer 404, as for a path that does not exist).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from string import Template

import yaml
from envoy.config.core.v3 import base_pb2 as core_pb2
from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.config.route.v3 import route_pb2
from envoy.extensions.filters.http.cors.v3 import cors_pb2  # noqa: F401 -- types routes.yaml names
from envoy.extensions.filters.http.local_ratelimit.v3 import local_rate_limit_pb2  # noqa: F401
from envoy.extensions.retry.host.previous_hosts.v3 import previous_hosts_pb2  # noqa: F401
from envoy.type.matcher.v3 import regex_pb2, string_pb2
from google.protobuf import any_pb2, json_format

from mesh.settings import ROOT, Settings
from mesh.traffic.methods import Catalog
from mesh.traffic.policy import Destination, PathMatch, ServicePolicy
from mesh.xds import routing

NAME = "gateway"  # the RouteConfiguration Envoy's listener asks RDS for (gateway/envoy.yaml)
ROUTES_FILE = ROOT / "gateway" / "routes.yaml"
TRANSCODER = "envoy.filters.http.grpc_json_transcoder"  # gateway/envoy.yaml's filter name
_VARIABLE = re.compile(r"\{[^}]*\}")


class RouteTableError(ValueError):
    """routes.yaml cannot be read as a RouteConfiguration; the message says where."""


def values(settings: Settings) -> dict[str, str]:
    """What the template's ${...} stand for."""
    return {"WEB_ORIGIN": settings.web_origin, "LOGIN_BURST": str(settings.gateway_login_burst)}


def load(path: Path, substitutions: Mapping[str, str]) -> route_pb2.RouteConfiguration:
    """The route table of `path`, its ${...} filled in."""
    try:
        data = yaml.safe_load(Template(path.read_text()).substitute(substitutions))
        table = json_format.ParseDict(data, route_pb2.RouteConfiguration())
    except (OSError, KeyError, ValueError, yaml.YAMLError, json_format.ParseError) as error:
        raise RouteTableError(f"{path}: {error}") from None
    table.name = NAME
    return table


def takes(match: rc.RouteMatch, path: str) -> bool:
    """Whether a route's path specifier takes `path` (its other conditions aside)."""
    specifier = match.WhichOneof("path_specifier")
    if specifier == "prefix":
        return path.startswith(str(match.prefix))
    if specifier == "path":
        return path == str(match.path)
    if specifier == "safe_regex":
        return re.fullmatch(match.safe_regex.regex, path) is not None
    return False


def _paths(catalog: Catalog) -> Iterator[tuple[str, bool, str]]:
    """(path as a client sends it, safe, the matcher of that exact path) of every RPC's gRPC path
    and REST bindings (a sample path for a template, with a regex taking all its paths)."""
    for method in catalog.methods.values():
        yield method.path, method.safe, re.escape(method.path)
        for _, template in method.rest:
            literal = "[^/]+".join(re.escape(part) for part in _VARIABLE.split(template))
            yield _VARIABLE.sub("x", template), method.safe, literal


def _on_path(match: rc.RouteMatch, path: PathMatch | None = None, regex: str | None = None) -> rc.RouteMatch:
    narrowed = rc.RouteMatch()
    narrowed.CopyFrom(match)
    if path is not None and not path.everything:
        string = string_pb2.StringMatcher(exact=path.exact) if path.exact is not None else \
            string_pb2.StringMatcher(prefix=path.prefix or "/")
        narrowed.headers.append(rc.HeaderMatcher(name=":path", string_match=string))
    if regex is not None:
        narrowed.headers.append(rc.HeaderMatcher(
            name=":path", string_match=string_pb2.StringMatcher(safe_regex=regex_pb2.RegexMatcher(regex=regex))))
    return narrowed


def _expanded(route: rc.Route, policy: ServicePolicy, catalog: Catalog) -> list[rc.Route]:
    chain: list[tuple[PathMatch, Destination]] = [
        *((r.match, r.destination) for r in policy.routes), (PathMatch(), policy.default)]
    reached = [(path, safe, regex) for path, safe, regex in _paths(catalog) if takes(route.match, path)]
    out = []
    for match, destination in chain:
        mine = [(path, safe, regex) for path, safe, regex in reached if match.takes(path)]
        if not match.everything and not mine:
            continue  # the router's route takes nothing this table route carries
        carve = [regex for _, safe, regex in mine if not safe] if destination.retry else []
        for regex in carve:
            out.append(_route(route, _on_path(route.match, match, regex), policy, destination, retries=False))
        out.append(_route(route, _on_path(route.match, match), policy, destination, retries=True))
        if match.everything:
            break  # Consul's order: nothing after a route that takes every call is reached
    return out


def _route(route: rc.Route, match: rc.RouteMatch, policy: ServicePolicy, destination: Destination,
           retries: bool) -> rc.Route:
    result = rc.Route()
    result.CopyFrom(route)
    result.match.CopyFrom(match)
    result.route.CopyFrom(routing.apply(route.route, policy.service, destination, retries))
    return routing.with_fault(result, policy.fault)


def rest_verbs(catalog: Catalog) -> dict[str, tuple[str, set[str]]]:
    """Each REST path template as a regex: a sample path it takes, and the verbs bound to it.

    A variable takes one segment short of a custom verb (`{video_id}` is not `x:like`), so
    `/videos/{video_id}` and `/videos/{video_id}:like` are two paths, as the transcoder sees them."""
    paths: dict[str, tuple[str, set[str]]] = {}
    for method in catalog.methods.values():
        for verb, template in method.rest:
            regex = "[^/:]+".join(re.escape(part) for part in _VARIABLE.split(template))
            paths.setdefault(regex, (_VARIABLE.sub("x", template), set()))[1].add(verb)
    return paths


def _method_not_allowed(routes: list[rc.Route], catalog: Catalog) -> list[rc.Route]:
    """A 405 route for each REST path some route of `routes` sends to a cluster. Nothing of
    that route's own filter settings: its rate limit's bucket would be a second one (Envoy
    keeps one per route), and a refusal hashes no password."""
    disabled = any_pb2.Any()
    disabled.Pack(rc.FilterConfig(disabled=True))  # its 404 would come first
    refusals = []
    for regex, (sample, verbs) in sorted(rest_verbs(catalog).items()):
        if not any(route.HasField("route") and takes(route.match, sample) for route in routes):
            continue
        allowed = ", ".join(sorted(verbs))
        others = rc.HeaderMatcher(name=":method", invert_match=True, string_match=string_pb2.StringMatcher(
            safe_regex=regex_pb2.RegexMatcher(regex="|".join(sorted(verbs)))))
        refusal = rc.Route(name=f"method-not-allowed {sample}",
                           match=rc.RouteMatch(safe_regex=regex_pb2.RegexMatcher(regex=regex), headers=[others]))
        refusal.direct_response.status = 405
        refusal.direct_response.body.inline_string = f"method not allowed: this path takes {allowed}"
        refusal.response_headers_to_add.add().header.MergeFrom(core_pb2.HeaderValue(key="allow", value=allowed))
        refusal.typed_per_filter_config[TRANSCODER].CopyFrom(disabled)
        refusals.append(refusal)
    return refusals


def render(table: route_pb2.RouteConfiguration, policies: Mapping[str, ServicePolicy],
           catalog: Catalog) -> route_pb2.RouteConfiguration:
    """The table with every policy applied and the 405s in front, for RDS."""
    rendered = route_pb2.RouteConfiguration()
    rendered.CopyFrom(table)
    for host in rendered.virtual_hosts:
        routes = list(host.routes)
        del host.routes[:]
        host.routes.extend(_method_not_allowed(routes, catalog))
        for route in routes:
            policy = policies.get(route.route.cluster) if route.HasField("route") else None
            host.routes.extend(_expanded(route, policy, catalog) if policy else [route])
    return rendered
