"""Watch Consul for traffic policy: the service-resolver, service-splitter and service-router
config entries, and the fault keys under `vidmesh/faults/` in its KV store.

Each is one blocking query (`/v1/config/<kind>`, `/v1/kv/vidmesh/faults/?recurse`), so a
change reaches the snapshot store, and every client, within milliseconds. After every change
each service's entries are translated again (mesh/traffic/entries.py); a service whose entries
cannot be translated keeps its last good policy, with one error log line saying which entry
and why, until its entries change again. Consul being away is handled as in watcher.py: the
last good state is served.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import consul
import structlog
from consul.callback import CB

from mesh.traffic import entries
from mesh.traffic.policy import Fault, ServicePolicy
from mesh.xds.snapshot import SnapshotStore
from mesh.xds.watcher import TIMEOUT_S, results

log = structlog.get_logger(__name__)

KINDS = ("service-resolver", "service-splitter", "service-router")
POLICIES = "policies"  # the store's readiness part


class PolicyWatcher:
    """Keeps the store's policies equal to what Consul's entries and fault keys say."""

    def __init__(self, store: SnapshotStore, host: str, port: int, *, wait: str = "10s", backoff_s: float = 0.25,
                 connect: Callable[[], consul.Consul] | None = None) -> None:
        self._store = store
        self._connect = connect or (lambda: consul.Consul(host=host, port=port, connections_timeout=TIMEOUT_S))
        self._wait, self._backoff_s = wait, backoff_s
        self._stopping = asyncio.Event()
        self._entries: dict[str, dict[str, Mapping[str, Any]]] = {}
        self._faults: dict[str, bytes] = {}
        self._faults_seen = False
        self._good: dict[str, ServicePolicy] = {}
        self._refused: dict[str, str] = {}  # service -> the reason last logged

    async def run(self) -> None:
        """Watch every kind and the fault keys until stop()."""
        self._stopping.clear()
        async with asyncio.TaskGroup() as tasks:
            watches = [tasks.create_task(self._watch_kind(kind)) for kind in KINDS]
            watches.append(tasks.create_task(self._watch_faults()))
            await self._stopping.wait()
            for task in watches:
                task.cancel()

    async def stop(self) -> None:
        """End run() now."""
        self._stopping.set()

    async def _watch_kind(self, kind: str) -> None:
        def query(client: consul.Consul, index: int | None) -> tuple[Any, list[Mapping[str, Any]]]:
            params = [("index", index), ("wait", self._wait)] if index else []
            return client.http.get(CB.json(index=True), f"/v1/config/{kind}", params=params)  # type: ignore[no-any-return]

        async for found in results(self._connect, query, self._stopping, self._backoff_s):
            self._entries[kind] = {entry["Name"]: entry for entry in found or ()}
            self._translate()

    async def _watch_faults(self) -> None:
        def query(client: consul.Consul, index: int | None) -> tuple[Any, list[Mapping[str, Any]] | None]:
            return client.kv.get(entries.FAULT_PREFIX, index=index, recurse=True, wait=self._wait)  # type: ignore[no-any-return]

        async for found in results(self._connect, query, self._stopping, self._backoff_s):
            self._faults = {item["Key"].removeprefix(entries.FAULT_PREFIX): item["Value"] or b""
                            for item in found or () if item["Key"] != entries.FAULT_PREFIX}
            self._faults_seen = True
            self._translate()

    def _translate(self) -> None:
        if len(self._entries) < len(KINDS) or not self._faults_seen:
            return  # a first answer is missing: translating now would drop policies that exist
        names = set(self._faults).union(*(set(found) for found in self._entries.values()))
        for name in set(self._good) - names:
            del self._good[name]
            log.info("traffic policy removed", cluster=name)
        for name in sorted(names):
            self._translate_one(name)
        if self._store.set_policies(self._good):
            log.info("traffic policies changed", policies=sorted(self._good))
        self._store.mark_ready(POLICIES)

    def _translate_one(self, name: str) -> None:
        try:
            fault: Fault | None = entries.fault(name, self._faults[name]) if name in self._faults else None
            policy = entries.compile_policy(name, fault=fault, **{
                kind.removeprefix("service-"): self._entries[kind].get(name) for kind in KINDS})
        except entries.PolicyError as error:
            if self._refused.get(name) != str(error):
                log.error("traffic policy refused; the last good one stays in force", cluster=name,
                          reason=str(error), in_force=list(self._good[name].sources) if name in self._good else [])
            self._refused[name] = str(error)
            return
        self._refused.pop(name, None)
        if self._good.get(name) != policy:
            log.info("traffic policy translated", cluster=name, entries=list(policy.sources))
        self._good[name] = policy
