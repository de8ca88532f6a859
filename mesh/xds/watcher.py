"""Watch Consul for the healthy instances of every service tagged "vidmesh".

Consul blocking queries (`?index=&wait=`) return as soon as what they watch changes, so a
failed health check reaches the snapshot store within milliseconds. Consul being away is an
outage the watcher expects: it keeps the last good state, logs, and retries with mesh's
backoff. Anything else (a bug, a library raising something new) in the catalog watch or in
any service's watch ends `run()` with that error, so the runtime (a critical worker) reports
the control plane NOT_SERVING and starts the watcher again, rather than one service's
endpoints silently freezing; a restarted watcher brings the whole store back in line. py-consul's client is
synchronous (its async client needs aiohttp, which we do not ship), so each query runs in a
daemon thread; every query is bounded by `wait` plus the client's timeout. Daemon threads,
not an executor: at exit Python joins executor threads, which would hold a SIGTERM for up
to `wait` while a blocking query sleeps in Consul.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any, TypeVar

import consul
import requests
import structlog

from mesh.addresses import Resolver, Unresolvable
from mesh.backoff import Backoff, pause
from mesh.blocking import in_daemon_thread
from mesh.xds.snapshot import Instance, SnapshotStore

log = structlog.get_logger(__name__)

T = TypeVar("T")
Query = Callable[[consul.Consul, int | None], tuple[Any, T]]

TAG = "vidmesh"
FIRST_SYNC_TIMEOUT = 5.0  # seconds to wait for every service's first answer before serving
TIMEOUT_S = 5.0  # connecting to Consul, and its answer beyond a blocking query's wait
MAX_BACKOFF_S = 10.0


def healthy_instances(entries: Iterable[Mapping[str, Any]], resolver: Resolver | None = None) -> list[Instance]:
    """Instances from `/v1/health/service/<name>?passing=true` entries (service address first),
    with their metadata and tags (what subsets pick by).

    Envoy and proxyless gRPC take only IP endpoints: a host name is resolved here, and an
    instance whose name resolves nowhere is left out with a log line saying so (vidmesh's own
    instances register IPs; this is for anything else that registers a name)."""
    resolver = resolver or Resolver()
    instances = []
    for entry in entries:
        service = entry["Service"]
        host = service.get("Address") or entry["Node"]["Address"]
        try:
            instances.append(Instance(resolver.resolve(host), int(service["Port"]),
                                      meta=tuple(sorted((service.get("Meta") or {}).items())),
                                      tags=tuple(sorted(service.get("Tags") or ()))))
        except Unresolvable as error:
            log.error("instance refused: its address is not an IP and does not resolve",
                      service_id=service.get("ID"), address=host, error=str(error))
    return instances


def tagged_services(catalog: Mapping[str, Iterable[str] | None], tag: str = TAG) -> set[str]:
    """Names from `/v1/catalog/services` whose instances carry `tag`."""
    return {name for name, tags in catalog.items() if tag in (tags or ())}


def next_index(previous: int | None, returned: Any) -> int | None:
    """The index for the next blocking query; None starts over (Consul's index went back)."""
    try:
        index = int(returned)
    except (TypeError, ValueError):
        return None
    if index < 1 or (previous is not None and index < previous):
        return None
    return index


class ConsulWatcher:
    """Keeps the snapshot store equal to Consul's healthy instances of tagged services."""

    def __init__(
        self,
        store: SnapshotStore,
        host: str,
        port: int,
        *,
        wait: str = "10s",
        tag: str = TAG,
        backoff_s: float = 0.25,
        connect: Callable[[], consul.Consul] | None = None,
    ) -> None:
        """`connect` makes one client per watch (a requests session is not shared across threads)."""
        self._store = store
        self._resolver = Resolver.from_env()
        self._connect = connect or (lambda: consul.Consul(host=host, port=port, connections_timeout=TIMEOUT_S))
        self._wait, self._tag, self._backoff_s = wait, tag, backoff_s
        self._stopping = asyncio.Event()
        self._watches: dict[str, asyncio.Task[None]] = {}
        self._first: dict[str, asyncio.Event] = {}

    async def run(self) -> None:
        """Watch the catalog, and each tagged service's health, until stop(); an unexpected
        error in any watch ends every watch and is raised (in an ExceptionGroup)."""
        try:
            async with asyncio.TaskGroup() as tasks:
                catalog = tasks.create_task(self._watch_catalog(tasks), name="watch catalog")
                await self._stopping.wait()
                for task in [catalog, *self._watches.values()]:
                    task.cancel()
        finally:
            self._watches.clear()
            self._first.clear()

    async def stop(self) -> None:
        """End run() now: its blocking queries are abandoned to their daemon threads."""
        self._stopping.set()

    async def _watch_catalog(self, tasks: asyncio.TaskGroup) -> None:
        async for catalog in self._results(lambda c, i: c.catalog.services(index=i, wait=self._wait)):
            self._sync(tagged_services(catalog, self._tag), tasks)
            if not self._store.is_ready:
                await self._first_sync()

    def _sync(self, names: set[str], tasks: asyncio.TaskGroup) -> None:
        # The store's services too: a watcher started again after a crash has no watches yet,
        # and must forget what left the catalog while it was down.
        for name in (set(self._watches) | set(self._store.current.services)) - names:
            if (task := self._watches.pop(name, None)) is not None:
                task.cancel()
            self._first.pop(name, None)
            self._store.remove(name)
            log.info("service left the catalog", cluster=name)
        for name in sorted(names - set(self._watches)):
            self._first[name] = asyncio.Event()
            self._watches[name] = tasks.create_task(self._watch_health(name), name=f"watch {name}")
            log.info("watching service", cluster=name)

    async def _first_sync(self) -> None:
        waits = [asyncio.create_task(event.wait()) for event in self._first.values()]
        if waits:
            _, pending = await asyncio.wait(waits, timeout=FIRST_SYNC_TIMEOUT)
            for task in pending:
                task.cancel()
        self._store.mark_ready()
        log.info("first sync with consul done", services=len(self._store.current.services))

    async def _watch_health(self, name: str) -> None:
        def query(client: consul.Consul, index: int | None) -> tuple[Any, list[Mapping[str, Any]]]:
            return client.health.service(name, passing=True, index=index, wait=self._wait)  # type: ignore[no-any-return]

        async for entries in self._results(query):
            if self._store.set_instances(name, healthy_instances(entries, self._resolver)):
                log.info("healthy set changed", cluster=name, instances=len(self._store.current.services[name]))
            self._first[name].set()

    def _results(self, query: Query[T]) -> AsyncIterator[T]:
        return results(self._connect, query, self._stopping, self._backoff_s)


async def results(connect: Callable[[], consul.Consul], query: Query[T], stopping: asyncio.Event,
                  backoff_s: float = 0.25) -> AsyncIterator[T]:
    """Every answer of a blocking query until `stopping` is set; while Consul fails, back off
    and keep the last good state (the caller's)."""
    client = connect()
    index: int | None = None
    backoff = Backoff(initial=backoff_s, maximum=MAX_BACKOFF_S)
    while not stopping.is_set():
        try:
            returned, result = await in_daemon_thread(query, client, index)
        except (consul.ConsulException, requests.RequestException, ValueError) as error:
            delay = backoff.next()
            log.warning("consul query failed; serving the last good state", retry_in_s=delay, error=str(error))
            await pause(stopping, delay)
            continue
        backoff.reset()
        previous, index = index, next_index(index, returned)
        if previous is not None and index is None:
            await pause(stopping, 0.1)  # Consul's index went back: start over, but not in a tight loop
        yield result
