"""A Consul agent in memory for unit tests: the CA endpoints and the intentions, with blocking
queries that answer when something changes, as ConsulConnect's callers see the real one."""

from __future__ import annotations

import asyncio
from typing import TypeVar

from mesh.consul_connect import Answer, ConsulConnect, ConsulError, Intention, Leaf, Roots
from tests.unit.fake_ca import FakeCa

T = TypeVar("T")


class FakeAgent(ConsulConnect):
    """Serves a FakeCa's leaves and roots; `rotate()` and `set_intentions()` change them."""

    def __init__(self, ca: FakeCa, *, dns: str | None = None) -> None:
        self.ca, self.index, self.down, self.dns = ca, 1, False, dns
        self.leaves: dict[str, Leaf] = {}
        self.current_roots = ca.roots()
        self.rules: dict[str, tuple[Intention, ...]] = {}
        self._changed = asyncio.Condition()

    async def aclose(self) -> None:
        """Nothing to close."""

    async def _answer(self, index: int | None, value: object) -> int:
        if self.down:
            raise ConsulError("consul GET: connection refused (fake)")
        if index is not None:
            async with self._changed:
                await self._changed.wait_for(lambda: self.index != index or self.down)
            if self.down:
                raise ConsulError("consul GET: connection refused (fake)")
        return self.index

    async def leaf(self, service: str, index: int | None = None) -> Answer[Leaf]:
        """The service's leaf, issued on first ask; blocks until a change with an index."""
        await self._answer(index, None)
        if service not in self.leaves:
            self.leaves[service] = self.ca.leaf(service, dns=self.dns)
        leaf = self.leaves[service]
        return Answer(leaf, self.index)

    async def roots(self, index: int | None = None) -> Answer[Roots]:
        """The current roots; blocks until a change with an index."""
        await self._answer(index, None)
        return Answer(self.current_roots, self.index)

    async def intentions_to(self, destination: str, index: int | None = None) -> Answer[tuple[Intention, ...]]:
        """The rules of `destination`; blocks until a change with an index."""
        await self._answer(index, None)
        return Answer(self.rules.get(destination, ()), self.index)

    async def rotate(self) -> FakeCa:
        """A new active root (the old one kept beside it); every leaf is issued anew."""
        old, self.ca = self.ca, FakeCa.create("rotated root", self.ca.trust_domain)
        self.current_roots = self.ca.roots(old)
        self.leaves.clear()
        await self._bump()
        return self.ca

    async def set_intentions(self, destination: str, rules: tuple[Intention, ...]) -> None:
        """Replace the rules of `destination`."""
        self.rules[destination] = rules
        await self._bump()

    async def set_down(self, down: bool) -> None:
        """Make every query fail (Consul away), or answer again."""
        self.down = down
        await self._bump()

    async def _bump(self) -> None:
        async with self._changed:
            self.index += 1
            self._changed.notify_all()
