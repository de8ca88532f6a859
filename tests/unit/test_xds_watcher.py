"""The Consul watcher against a fake Consul that answers blocking queries and can fail."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from mesh.xds.snapshot import Instance, SnapshotStore
from mesh.xds.watcher import ConsulWatcher, healthy_instances, next_index, tagged_services

A = Instance("127.0.0.1", 50001)
B = Instance("127.0.0.2", 50002)


def _entry(instance: Instance) -> dict[str, Any]:
    return {"Node": {"Address": "10.9.9.9"}, "Service": {"Address": instance.address, "Port": instance.port}}


class FakeConsul:
    """One in-memory Consul: blocking queries return when the index moves, or fail on demand."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.index = 1
        self.services: dict[str, list[str]] = {"consul": [], "users": ["vidmesh", "v1"]}
        self.healthy: dict[str, list[Instance]] = {"users": [A]}
        self.fail_next = 0  # how many of the next queries fail
        self.down = False  # every query fails
        self.failures = 0
        self.broken: Exception | None = None  # raised by health queries: a bug, not an outage
        self.wait_s = 0.5  # how long a blocking query waits for a change
        self.blocked = 0  # queries waiting for a change right now
        self.catalog = SimpleNamespace(services=self._catalog)
        self.health = SimpleNamespace(service=self._health)

    def change(self, apply: Callable[[FakeConsul], object]) -> None:
        with self._changed:
            apply(self)
            self.index += 1
            self._changed.notify_all()

    def _answer(self, index: int | None, read: Callable[[], Any]) -> tuple[int, Any]:
        with self._changed:
            self.blocked += 1
            self._changed.wait_for(lambda: index is None or self.index > index or self.down, timeout=self.wait_s)
            self.blocked -= 1
            if self.down or self.fail_next:
                self.fail_next = max(0, self.fail_next - 1)
                self.failures += 1
                raise requests.ConnectionError("consul is away")
            return self.index, read()

    def _catalog(self, index: int | None = None, wait: str = "") -> tuple[int, dict[str, list[str]]]:
        return self._answer(index, lambda: dict(self.services))

    def _health(self, name: str, passing: bool, index: int | None = None, wait: str = "") -> tuple[int, Any]:
        if self.broken is not None:
            raise self.broken
        return self._answer(index, lambda: [_entry(i) for i in self.healthy.get(name, [])])


async def _until(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)  # polling interval of a bounded wait


def _watcher(fake: FakeConsul, store: SnapshotStore) -> ConsulWatcher:
    return ConsulWatcher(store, "unused", 0, backoff_s=0.001, connect=lambda: fake)


@pytest.fixture
async def watched() -> AsyncIterator[tuple[FakeConsul, SnapshotStore]]:
    fake, store = FakeConsul(), SnapshotStore()
    watcher = _watcher(fake, store)
    task = asyncio.create_task(watcher.run())
    yield fake, store
    await watcher.stop()
    await asyncio.wait_for(task, timeout=1)
    fake.change(lambda f: None)  # wake the blocked queries so their threads end


async def test_tagged_services_and_their_healthy_instances_reach_the_store(
    watched: tuple[FakeConsul, SnapshotStore],
) -> None:
    fake, store = watched
    await store.wait_ready()
    assert dict(store.current.services) == {"users": (A,)}
    fake.change(lambda f: f.healthy.update(users=[A, B]))
    await _until(lambda: store.current.services.get("users") == (A, B))


async def test_a_service_that_leaves_the_catalog_leaves_the_store(watched: tuple[FakeConsul, SnapshotStore]) -> None:
    fake, store = watched
    await store.wait_ready()
    fake.change(lambda f: f.services.update(email=["vidmesh"]))
    await _until(lambda: "email" in store.current.services)
    fake.change(lambda f: f.services.pop("users"))
    await _until(lambda: set(store.current.services) == {"email"})


async def test_consul_errors_are_retried_and_the_last_good_state_is_kept(
    watched: tuple[FakeConsul, SnapshotStore],
) -> None:
    fake, store = watched
    await store.wait_ready()
    version = store.current.version
    fake.change(lambda f: setattr(f, "down", True))
    await _until(lambda: fake.failures >= 6)
    assert store.current.version == version

    def back_with_news(f: FakeConsul) -> None:
        f.down = False
        f.healthy["users"] = [B]

    fake.change(back_with_news)
    await _until(lambda: store.current.services.get("users") == (B,))


async def test_an_unexpected_error_in_one_service_watch_ends_the_whole_watcher() -> None:
    fake, store = FakeConsul(), SnapshotStore()
    fake.broken = KeyError("Service")  # e.g. an answer of a shape the code does not expect
    with pytest.raises(ExceptionGroup) as raised:
        await asyncio.wait_for(_watcher(fake, store).run(), timeout=3)
    assert raised.group_contains(KeyError)


async def test_a_watcher_started_again_forgets_the_services_that_left_meanwhile() -> None:
    fake, store = FakeConsul(), SnapshotStore()
    first = _watcher(fake, store)
    running = asyncio.create_task(first.run())
    await store.wait_ready()
    await first.stop()
    await asyncio.wait_for(running, timeout=1)

    def users_leave_email_arrives(f: FakeConsul) -> None:
        f.services = {"email": ["vidmesh"]}
        f.healthy = {"email": [B]}

    fake.change(users_leave_email_arrives)
    again = _watcher(fake, store)
    running = asyncio.create_task(again.run())
    try:
        await _until(lambda: dict(store.current.services) == {"email": (B,)})
    finally:
        await again.stop()
        await asyncio.wait_for(running, timeout=1)


async def test_stop_ends_the_watcher_while_its_queries_block() -> None:
    fake, store = FakeConsul(), SnapshotStore()
    fake.wait_s = 30.0
    watcher = _watcher(fake, store)
    running = asyncio.create_task(watcher.run())
    await store.wait_ready()
    await _until(lambda: fake.blocked == 2)  # the catalog's and users' queries, for up to 30 s
    started = time.monotonic()
    await watcher.stop()
    await asyncio.wait_for(running, timeout=1)
    assert time.monotonic() - started < 0.5
    fake.change(lambda f: None)


def test_consul_entries_become_instances_with_the_service_address_first() -> None:
    entries = [
        {"Node": {"Address": "10.0.0.9"}, "Service": {"Address": "127.0.0.1", "Port": 50001}},
        {"Node": {"Address": "127.0.0.2"}, "Service": {"Address": "", "Port": 50002}},
    ]
    assert healthy_instances(entries) == [A, B]


def test_only_services_tagged_vidmesh_are_watched() -> None:
    assert tagged_services({"consul": [], "users": ["vidmesh", "v1"], "other": ["x"], "odd": None}) == {"users"}


def test_blocking_query_index_starts_over_when_consul_goes_back() -> None:
    assert next_index(None, "12") == 12
    assert next_index(12, 15) == 15
    assert next_index(15, 15) == 15
    assert next_index(15, 3) is None
    assert next_index(15, 0) is None
    assert next_index(15, None) is None
