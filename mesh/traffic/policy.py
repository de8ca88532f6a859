"""One service's traffic policy, as the control plane serves it to both kinds of client.

Consul compiles service-router -> service-splitter -> service-resolver into a chain; so do we:
a call is matched against the router's routes in order, and the first match's destination
(or, when none matches, the default destination) decides the targets with their weights, the
timeout and the retries. Weights are in basis points (10000 = every call).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from mesh.traffic.subsets import Filter

ALL_CALLS = 10000  # basis points


@dataclass(frozen=True)
class Target:
    """Where a share of the calls goes: a subset of the service, or all of it (None)."""

    subset: str | None
    weight: int = ALL_CALLS


@dataclass(frozen=True)
class Retry:
    """Retries of a route: how many, and on which conditions (Envoy's retry_on names)."""

    num_retries: int | None  # None: the clients' default (1)
    retry_on: tuple[str, ...]


@dataclass(frozen=True)
class Destination:
    """The targets of a route and what applies to its calls."""

    targets: tuple[Target, ...] = (Target(None),)
    timeout_s: float | None = None
    retry: Retry | None = None


@dataclass(frozen=True)
class PathMatch:
    """Which calls a route takes, by gRPC path: a prefix, an exact path, or (neither) all."""

    prefix: str | None = None
    exact: str | None = None

    @property
    def everything(self) -> bool:
        return self.exact is None and self.prefix in (None, "", "/")

    def takes(self, path: str) -> bool:
        """Whether a call to `path` matches."""
        if self.exact is not None:
            return path == self.exact
        return path.startswith(self.prefix or "")


@dataclass(frozen=True)
class Route:
    """One service-router route: its match and its destination."""

    match: PathMatch
    destination: Destination


@dataclass(frozen=True)
class Fault:
    """Failures injected on purpose for a share of calls (percent, 0 to 100)."""

    delay_s: float = 0.0
    delay_percent: float = 0.0
    abort_code: int = 0  # a gRPC status code; 0: no abort
    abort_percent: float = 0.0


@dataclass(frozen=True)
class ServicePolicy:
    """Everything the entries of one service say."""

    service: str
    subsets: Mapping[str, Filter] = field(default_factory=lambda: MappingProxyType({}))
    routes: tuple[Route, ...] = ()
    default: Destination = Destination()
    fault: Fault | None = None
    connect_timeout_s: float | None = None
    sources: tuple[str, ...] = ()  # the entries it was made from, e.g. "service-splitter/video-query"

    def subsets_in_use(self) -> set[str]:
        """Subsets some destination sends calls to."""
        destinations = [self.default, *(route.destination for route in self.routes)]
        return {t.subset for d in destinations for t in d.targets if t.subset is not None}


def cluster_name(service: str, subset: str | None) -> str:
    """The xDS cluster of a subset: `video-query/v2`; the whole service is `video-query`."""
    return service if subset is None else f"{service}/{subset}"
