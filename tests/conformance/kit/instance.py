"""The kit's own instance of a service: the topology entry's command, with the stack's
environment, isolated (kit/isolation.py). The checks that disrupt an instance (SIGTERM,
a forgotten registration) or read its log run against it, never against the stack's.

Its port is 0 (any free one); the kit learns it from Consul, where the instance registers,
so nothing here depends on what the service prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping

from mesh import topology
from mesh.settings import ROOT, Settings
from scripts.devstack.layout import Layout
from scripts.devstack.vidmesh import command, common_env
from tests.conformance.kit.consul import Consul
from tests.conformance.kit.failure import Nonconformance
from tests.conformance.kit.isolation import Isolation
from tests.conformance.kit.logs import LogLines
from tests.conformance.kit.target import Target, ready

START_TIMEOUT_S = 120.0  # a first start migrates a scratch database on a loaded machine
DRAIN_S, GRACE_S = 1.0, 5.0  # its VIDMESH_DRAIN_SECONDS and VIDMESH_SHUTDOWN_GRACE_SECONDS
KILL_WAIT_S = 10.0


def stack_environment(settings: Settings) -> dict[str, str]:
    """The environment the native stack gives every service instance."""
    return {**os.environ, **common_env(settings, Layout(settings))}


class OwnInstance:
    """One process of `entry`, started and stopped by the kit; its stdout is read as it comes."""

    def __init__(self, entry: topology.Service, settings: Settings, consul: Consul,
                 extra_env: Mapping[str, str] | None = None) -> None:
        self.entry, self.settings, self.consul = entry, settings, consul
        self.isolation = Isolation(entry, settings)
        self.argv = command(entry)
        self.extra_env = dict(extra_env or {})
        self.log = LogLines()
        self.process: asyncio.subprocess.Process | None = None
        self._target: Target | None = None
        self._readers: list[asyncio.Task[None]] = []

    @property
    def target(self) -> Target:
        """Where it runs, as Consul lists it (once started)."""
        if self._target is None:
            raise RuntimeError(f"{self.name} has not been started")
        return self._target

    @property
    def name(self) -> str:
        """Its VIDMESH_SERVICE_NAME (and consumer group)."""
        return self.isolation.name

    def environment(self, **overrides: str) -> dict[str, str]:
        """Its environment: the stack's, then what isolates it, then `overrides`."""
        env = {**stack_environment(self.settings),
               "VIDMESH_SERVICE_NAME": self.name, "VIDMESH_TOPIC_PREFIX": self.isolation.topic_prefix,
               "VIDMESH_GRPC_HOST": "127.0.0.1", "VIDMESH_GRPC_PORT": "0", "VIDMESH_ADVERTISE_HOST": "127.0.0.1",
               "VIDMESH_DRAIN_SECONDS": str(DRAIN_S), "VIDMESH_SHUTDOWN_GRACE_SECONDS": str(GRACE_S),
               **self.extra_env}
        url = self.isolation.database_url()
        if url is not None:
            env["VIDMESH_DATABASE_URL"] = url
        return {**env, **overrides}

    async def start(self) -> Target:
        """Create its scratch database, start it, wait until it is registered and SERVING."""
        await self.isolation.create()
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, cwd=ROOT, env=self.environment(), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [asyncio.create_task(self._read(stream)) for stream in (self.process.stdout,
                                                                                  self.process.stderr)]
        started = asyncio.create_task(ready(self.consul, self.entry, self.name, START_TIMEOUT_S))
        exited = asyncio.create_task(self.process.wait())
        await asyncio.wait({started, exited}, return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            started.cancel()
            raise Nonconformance(f"{self.name}: exited with {self.process.returncode} before it registered "
                                 f"and said SERVING; its last lines:\n{self.log.tail()}")
        exited.cancel()
        try:
            self._target = started.result()
        except Nonconformance as failure:
            raise Nonconformance(f"{failure}; its last lines:\n{self.log.tail()}") from None
        return self._target

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self.log.add(line.decode(errors="replace"))

    @property
    def running(self) -> bool:
        """Whether the process has not exited."""
        return self.process is not None and self.process.returncode is None

    def signal(self, signum: signal.Signals = signal.SIGTERM) -> float:
        """Send a signal; returns when (time.monotonic())."""
        assert self.process is not None
        self.process.send_signal(signum)
        return time.monotonic()

    async def wait_exit(self, timeout: float) -> int | None:
        """The exit code, or None if it is still running after `timeout`."""
        assert self.process is not None
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            return None

    async def close(self) -> None:
        """Stop it (SIGTERM, then SIGKILL), forget its registration, drop what isolated it."""
        if self.running:
            self.signal(signal.SIGTERM)
            if await self.wait_exit(DRAIN_S + GRACE_S + KILL_WAIT_S) is None:
                self.signal(signal.SIGKILL)
                await self.wait_exit(KILL_WAIT_S)
        for reader in self._readers:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(reader, KILL_WAIT_S)
        if self._target is not None:
            with contextlib.suppress(Exception):  # it deregistered itself, as it should
                await self.consul.deregister(self._target.service_id)
        await self.isolation.drop()
