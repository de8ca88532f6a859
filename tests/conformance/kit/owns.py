"""The kit's own instance of one service, reused by its checks and started again only when a
check (SIGTERM) has ended it. The own instance of a consumer must first show that it reads
apart from the stack (its own group, its prefixed topics); one that does not is stopped at
once, and no other instance of it is started."""

from __future__ import annotations

from collections.abc import Mapping

from mesh import topology
from mesh.settings import Settings
from tests.conformance.kit.api import Api
from tests.conformance.kit.checks.events import WAIT_S as APART_WITHIN_S
from tests.conformance.kit.checks.events import check_consumes_apart
from tests.conformance.kit.consul import Consul
from tests.conformance.kit.failure import Nonconformance
from tests.conformance.kit.instance import OwnInstance
from tests.conformance.kit.kafka import Kafka


class OwnInstances:
    """At most one running own instance of `entry` at a time."""

    def __init__(self, entry: topology.Service, settings: Settings, consul: Consul, kafka: Kafka,
                 extra_env: Mapping[str, str] | None = None, apart_within_s: float = APART_WITHIN_S) -> None:
        self.entry, self.settings, self.consul, self.kafka = entry, settings, consul, kafka
        self.extra_env, self.apart_within_s = extra_env, apart_within_s
        self._current: OwnInstance | None = None
        self._api: Api | None = None
        self._not_apart: Nonconformance | None = None

    def spare(self, **overrides: str) -> OwnInstance:
        """Another instance, with `overrides` in its environment, for a check to run itself."""
        return OwnInstance(self.entry, self.settings, self.consul, extra_env={**(self.extra_env or {}), **overrides})

    async def running(self) -> tuple[OwnInstance, Api]:
        """The running instance and its reflected API, starting one if none runs."""
        if self._not_apart is not None:
            raise Nonconformance(f"{self._not_apart} (seen when the kit started its own instance, which it then "
                                 "stopped: no check runs on an instance that may read the stack's topics)")
        if self._current is None or not self._current.running:
            await self.close()
            self._current = self.spare()
            await self._current.start()
            if self.entry.consumes:
                await self._apart(self._current)
            self._api = await Api.reflect(self._current.target.address)
        assert self._api is not None
        return self._current, self._api

    async def _apart(self, own: OwnInstance) -> None:
        try:
            await check_consumes_apart(own, self.kafka, self.apart_within_s)
        except Nonconformance as failure:
            self._not_apart = failure
            await self.close()
            raise

    async def close(self) -> None:
        """Stop the current instance, if any, and remove what isolated it."""
        if self._current is not None:
            current, self._current = self._current, None
            await current.close()
