"""Versioned state of the mesh: which healthy instances each service has right now.

The watcher writes it, every ADS stream reads it and is woken when it changes. The version is
a hash of the content, so it changes only when the healthy set changes, and a restarted
control plane hands out the same version for the same state.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True, order=True)
class Instance:
    """One healthy instance of a service: where to send its traffic, and the identity its
    certificate names (its registration's `identity` metadata; "" when it gave none)."""

    address: str
    port: int
    identity: str = ""


@dataclass(frozen=True)
class Snapshot:
    """Every known service (kebab-case Consul name) with its healthy instances, sorted."""

    services: Mapping[str, tuple[Instance, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, services: Mapping[str, Iterable[Instance]]) -> Snapshot:
        """Build a snapshot whose content does not depend on the order it was given in."""
        ordered = {name: tuple(sorted(set(services[name]))) for name in sorted(services)}
        return cls(MappingProxyType(ordered))

    @property
    def version(self) -> str:
        """A short content hash: equal snapshots have equal versions."""
        digest = hashlib.sha256()
        for name, instances in self.services.items():
            digest.update(f"{name}\n".encode())
            for instance in instances:
                digest.update(f" {instance.address}:{instance.port} {instance.identity}\n".encode())
        return digest.hexdigest()[:16]

    def identities(self, name: str) -> list[str]:
        """The identities a client of `name` may find in its servers' certificates: those its
        instances registered, else the service's own name."""
        return sorted({instance.identity for instance in self.services.get(name, ()) if instance.identity}) or [name]


Listener = Callable[[Snapshot], None]


class SnapshotStore:
    """The current snapshot, plus the ADS streams to wake when it changes."""

    def __init__(self) -> None:
        self._services: dict[str, frozenset[Instance]] = {}
        self._current = Snapshot.of({})
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

    def mark_ready(self) -> None:
        """The first full sync with Consul is done: streams may answer now."""
        self._ready.set()

    @property
    def is_ready(self) -> bool:
        """Whether the first full sync with Consul is done."""
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        """Wait for the first full sync, so no client sees an empty mesh at start."""
        await self._ready.wait()

    def wake(self) -> None:
        """Something a response depends on besides the instances changed (a certificate was
        renewed): every stream re-checks what it owes."""
        for listener in list(self._listeners):
            listener(self._current)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` on every change; returns the function that unsubscribes it."""
        self._listeners.add(listener)
        return lambda: self._listeners.discard(listener)

    def _publish(self) -> bool:
        snapshot = Snapshot.of(self._services)
        if snapshot.version == self._current.version:
            return False
        self._current = snapshot
        for listener in list(self._listeners):
            listener(snapshot)
        return True
