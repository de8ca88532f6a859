"""Workers under supervision: a crash is logged, reported and restarted with backoff; only a
critical worker's absence is an outage; stop() ends them all in a bounded time."""

from __future__ import annotations

import asyncio

import structlog

from mesh.backoff import Backoff
from mesh.supervisor import Supervisor, Worker


class Reports:
    def __init__(self) -> None:
        self.seen: list[tuple[str, bool]] = []

    async def __call__(self, name: str, running: bool) -> None:
        self.seen.append((name, running))


def quick(reports: Reports | None = None) -> Supervisor:
    # The rhythm under test is restart-after-crash, not its length.
    return Supervisor(reports or Reports(), restart_after=lambda: Backoff(initial=0.01, maximum=0.01))


async def test_a_crashed_worker_is_reported_logged_and_restarted() -> None:
    reports, runs = Reports(), []
    stopping = asyncio.Event()

    async def flaky() -> None:
        runs.append(1)
        if len(runs) < 3:
            raise ValueError(f"bug number {len(runs)}")
        await stopping.wait()

    async def stop() -> None:
        stopping.set()

    workers = quick(reports)
    with structlog.testing.capture_logs() as logs:
        workers.start(Worker(name="relay", run=flaky, stop=stop))
        for _ in range(200):
            if len(runs) == 3:
                break
            await asyncio.sleep(0.01)  # polling interval of a bounded wait
        await workers.stop(timeout=1)
    assert len(runs) == 3 and workers.crashes["relay"] == 2
    assert reports.seen == [("relay", False), ("relay", True), ("relay", False), ("relay", True)]
    crashes = [entry for entry in logs if entry["event"] == "worker crashed; restarting it"]
    assert [entry["exc_info"].args[0] for entry in crashes] == ["bug number 1", "bug number 2"]


async def test_only_a_critical_worker_that_is_down_counts_as_an_outage() -> None:
    gate = asyncio.Event()

    async def crashing() -> None:
        await gate.wait()
        raise RuntimeError("down")

    workers = quick()
    workers.start(Worker(name="optional", run=crashing))
    workers.start(Worker(name="essential", run=crashing, critical=True))
    assert workers.critical_down() == []
    gate.set()
    for _ in range(100):
        if workers.down == {"optional", "essential"}:
            break
        await asyncio.sleep(0.001)  # polling interval of a bounded wait
    assert workers.critical_down() == ["essential"]
    await workers.stop(timeout=1)


async def test_a_worker_that_returns_on_its_own_is_restarted_but_a_job_is_done() -> None:
    runs: list[str] = []

    async def returns() -> None:
        runs.append("loop")

    async def job() -> None:
        runs.append("job")

    workers = quick()
    workers.start(Worker(name="loop", run=returns))
    workers.start(Worker(name="job", run=job, once=True))
    for _ in range(100):
        if runs.count("loop") >= 3:
            break
        await asyncio.sleep(0.01)  # polling interval of a bounded wait
    await workers.stop(timeout=1)
    assert runs.count("loop") >= 3 and runs.count("job") == 1


async def test_stop_cancels_a_worker_that_ignores_it() -> None:
    async def stubborn() -> None:
        await asyncio.Event().wait()

    workers = quick()
    workers.start(Worker(name="stubborn", run=stubborn))
    await asyncio.sleep(0)
    await asyncio.wait_for(workers.stop(timeout=0.05), timeout=2)
