"""The kit's own instance of one service, reused by its checks and started again only when a
check (SIGTERM) has ended it."""

from __future__ import annotations

from collections.abc import Mapping

from mesh import topology
from mesh.settings import Settings
from tests.conformance.kit.api import Api
from tests.conformance.kit.consul import Consul
from tests.conformance.kit.instance import OwnInstance


class OwnInstances:
    """At most one running own instance of `entry` at a time."""

    def __init__(self, entry: topology.Service, settings: Settings, consul: Consul,
                 argv: list[str] | None = None, extra_env: Mapping[str, str] | None = None) -> None:
        self.entry, self.settings, self.consul = entry, settings, consul
        self.argv, self.extra_env = argv, extra_env
        self._current: OwnInstance | None = None
        self._api: Api | None = None

    def spare(self) -> OwnInstance:
        """An instance that is never started here (for a check that runs the command itself)."""
        return OwnInstance(self.entry, self.settings, self.consul, self.argv, self.extra_env)

    async def running(self) -> tuple[OwnInstance, Api]:
        """The running instance and its reflected API, starting one if none runs."""
        if self._current is None or not self._current.running:
            await self.close()
            self._current = self.spare()
            await self._current.start()
            self._api = await Api.reflect(self._current.target.address)
        assert self._api is not None
        return self._current, self._api

    async def close(self) -> None:
        """Stop the current instance, if any, and remove what isolated it."""
        if self._current is not None:
            current, self._current = self._current, None
            await current.close()
