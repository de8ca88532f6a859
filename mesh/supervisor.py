"""Background workers of a process (relays, consumers, dispatchers, watchers), supervised.

A worker's own loop handles the outages it expects (Kafka away, Postgres restarting). What it
does not expect, a bug or a library raising something new, used to end the task while the
process went on answering SERVING with nothing publishing its events. Here such a crash is
logged with its traceback, reported (the worker's own grpc.health.v1 entry,
`vidmesh.worker.<name>`, says NOT_SERVING until it runs again) and the worker is started again
after a backoff. Only a critical worker, one the service's own RPCs cannot do without, also
takes the whole instance out of the routing while it is down; the others only delay events,
which is degradation, not an outage.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from mesh.backoff import Backoff, pause

log = structlog.get_logger(__name__)

HEALTHY_RUN_S = 60.0  # a worker that ran this long before crashing starts its backoff afresh


def health_name(worker: str) -> str:
    """The grpc.health.v1 service name that reports one worker."""
    return f"vidmesh.worker.{worker}"


@dataclass(frozen=True, kw_only=True)
class Worker:
    """A background loop: `run()` until `stop()` asks it to return."""

    name: str
    run: Callable[[], Awaitable[None]]
    stop: Callable[[], Awaitable[None]] | None = None
    critical: bool = False  # the service cannot answer its own RPCs while this one is down
    once: bool = False  # a job that is done when run() returns (e.g. creating topics)


class WorkerExited(RuntimeError):
    """A long-running worker returned although nobody asked it to stop."""


Reporter = Callable[[str, bool], Awaitable[None]]


class Supervisor:
    """Runs workers, restarts crashed ones with backoff, stops them all in a bounded time."""

    def __init__(self, report: Reporter, *, restart_after: Callable[[], Backoff] | None = None) -> None:
        self._report = report
        self._restart_after = restart_after or (lambda: Backoff(initial=0.5, maximum=30.0))
        self._workers: dict[str, Worker] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._down: set[str] = set()
        self._stopping = asyncio.Event()
        self.crashes: Counter[str] = Counter()

    def start(self, worker: Worker) -> None:
        """Run `worker` under supervision from now on."""
        if worker.name in self._workers:
            raise ValueError(f"a worker named {worker.name!r} runs already")
        self._workers[worker.name] = worker
        self._tasks[worker.name] = asyncio.create_task(self._supervise(worker), name=f"worker {worker.name}")

    def critical_down(self) -> list[str]:
        """The critical workers that are not running right now."""
        return sorted(name for name in self._down if self._workers[name].critical)

    @property
    def names(self) -> list[str]:
        """Every worker under supervision."""
        return sorted(self._workers)

    @property
    def down(self) -> set[str]:
        """The workers waiting to be restarted."""
        return set(self._down)

    async def stop(self, timeout: float) -> None:
        """Ask every worker to stop and wait; those still running after `timeout` are cancelled."""
        self._stopping.set()
        stops = [worker.stop() for worker in self._workers.values() if worker.stop is not None]
        await asyncio.gather(*stops, return_exceptions=True)
        tasks = list(self._tasks.values())
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=timeout)
        for task in late:
            log.warning("worker did not stop in time; cancelling it", worker=task.get_name())
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    async def _supervise(self, worker: Worker) -> None:
        backoff = self._restart_after()
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                await worker.run()
                if worker.once or self._stopping.is_set():
                    return
                raise WorkerExited(f"worker {worker.name} returned without being asked to stop")
            except Exception as error:  # the point of a supervisor: nothing unexpected ends a worker
                if self._stopping.is_set():
                    return
                if time.monotonic() - started > HEALTHY_RUN_S:
                    backoff.reset()
                delay = backoff.next()
                self.crashes[worker.name] += 1
                log.error("worker crashed; restarting it", worker=worker.name, critical=worker.critical,
                          crashes=self.crashes[worker.name], restart_in_s=delay, exc_info=error)
                await self._set_down(worker.name, True)
                if await pause(self._stopping, delay):
                    return
                await self._set_down(worker.name, False)

    async def _set_down(self, name: str, down: bool) -> None:
        (self._down.add if down else self._down.discard)(name)
        await self._report(name, not down)
