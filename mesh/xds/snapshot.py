"""Versioned state of the mesh: which healthy instances each service has right now, and the
traffic policy of each service that has one.

The watchers write it, every ADS stream reads it and is woken when it changes. The version is
a hash of the content, so it changes only when the healthy set or a policy changes, and a
restarted control plane hands out the same version for the same state.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from envoy.config.route.v3 import route_pb2

from mesh.traffic.methods import Catalog
from mesh.traffic.policy import ServicePolicy
from mesh.traffic.subsets import Labels


@dataclass(frozen=True)
class Routing:
    """What routes are built from besides Consul, fixed for the life of the process: the RPCs
    of the contracts (which are safe to retry) and the gateway's route table, if served."""

    catalog: Catalog = field(default_factory=lambda: Catalog([]))
    gateway: route_pb2.RouteConfiguration | None = None


@dataclass(frozen=True, order=True)
class Instance:
    """One healthy instance of a service: where to send its traffic, and the registration
    (metadata and tags) that subsets pick instances by."""

    address: str
    port: int
    meta: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def labels(self) -> Labels:
        """What a subset filter looks at."""
        return Labels(dict(self.meta), frozenset(self.tags))


@dataclass(frozen=True)
class Snapshot:
    """Every known service (kebab-case Consul name) with its healthy instances, sorted."""

    services: Mapping[str, tuple[Instance, ...]] = field(default_factory=lambda: MappingProxyType({}))
    policies: Mapping[str, ServicePolicy] = field(default_factory=lambda: MappingProxyType({}))
    routing: Routing = field(default_factory=Routing, compare=False)

    @classmethod
    def of(cls, services: Mapping[str, Iterable[Instance]],
           policies: Mapping[str, ServicePolicy] | None = None, routing: Routing | None = None) -> Snapshot:
        """Build a snapshot whose content does not depend on the order it was given in."""
        ordered = {name: tuple(sorted(set(services[name]))) for name in sorted(services)}
        chosen = policies or {}
        return cls(MappingProxyType(ordered), MappingProxyType({name: chosen[name] for name in sorted(chosen)}),
                   routing or Routing())

    def instances(self, service: str, subset: str | None = None) -> tuple[Instance, ...]:
        """The healthy instances of `service`, or of one subset of its policy (none when the
        policy has no such subset)."""
        found = self.services.get(service, ())
        if subset is None:
            return found
        policy = self.policies.get(service)
        chosen = policy.subsets.get(subset) if policy else None
        return tuple(i for i in found if chosen is not None and chosen.matches(i.labels))

    @property
    def version(self) -> str:
        """A short content hash: equal snapshots have equal versions."""
        digest = hashlib.sha256()
        for name, instances in self.services.items():
            digest.update(f"{name}\n".encode())
            for instance in instances:
                digest.update(f" {instance!r}\n".encode())
        for name, policy in self.policies.items():
            digest.update(f"policy {name} {policy!r}\n".encode())
        return digest.hexdigest()[:16]


Listener = Callable[[Snapshot], None]


class SnapshotStore:
    """The current snapshot, plus the ADS streams to wake when it changes."""

    def __init__(self, waits_for: tuple[str, ...] = ("instances",), routing: Routing | None = None) -> None:
        """`waits_for`: the first syncs (e.g. "instances", "policies") to be done before serving."""
        self._waits_for = set(waits_for)
        self._routing = routing or Routing()
        self._services: dict[str, frozenset[Instance]] = {}
        self._policies: dict[str, ServicePolicy] = {}
        self._current = Snapshot.of({}, routing=self._routing)
        self._listeners: set[Listener] = set()
        self._ready = asyncio.Event()

    @property
    def current(self) -> Snapshot:
        """The latest snapshot."""
        return self._current

    def set_instances(self, name: str, instances: Iterable[Instance]) -> bool:
        """Record the healthy instances of `name`; True if the snapshot changed."""
        self._services[name] = frozenset(instances)
        return self._publish()

    def remove(self, name: str) -> bool:
        """Forget a service that left the catalog; True if the snapshot changed."""
        self._services.pop(name, None)
        return self._publish()

    def set_policies(self, policies: Mapping[str, ServicePolicy]) -> bool:
        """Replace every service's policy; True if the snapshot changed."""
        self._policies = dict(policies)
        return self._publish()

    def mark_ready(self, part: str = "instances") -> None:
        """The first full sync of `part` with Consul is done; once every part is, streams may answer."""
        self._waits_for.discard(part)
        if not self._waits_for:
            self._ready.set()

    @property
    def is_ready(self) -> bool:
        """Whether the first full sync with Consul is done."""
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        """Wait for the first full sync, so no client sees an empty mesh at start."""
        await self._ready.wait()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` on every change; returns the function that unsubscribes it."""
        self._listeners.add(listener)
        return lambda: self._listeners.discard(listener)

    def _publish(self) -> bool:
        snapshot = Snapshot.of(self._services, self._policies, self._routing)
        if snapshot.version == self._current.version:
            return False
        self._current = snapshot
        for listener in list(self._listeners):
            listener(snapshot)
        return True
