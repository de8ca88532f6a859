"""The stack the price list runs on: a private one (ports shifted, its own folders), so a
stack already running is left alone, with the edge's rate limit raised out of the way.

The gateway's local rate limit (VIDMESH_GATEWAY_RATE_PER_SECOND, 200 a second by default)
would turn a benchmark through Envoy into a measure of the limit; the price list raises it
so what is measured is the gateway's own cost. Nothing else differs from `make start`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.devstack.private import private_env
from scripts.devstack.stack import Stack
from scripts.devstack.status import tree_cpu_seconds, tree_memory

BENCH_SETTINGS = {"VIDMESH_GATEWAY_RATE_PER_SECOND": "1000000"}
SAMPLE_EVERY_S = 0.5


@contextmanager
def private_stack(overrides: dict[str, str] | None = None, *, keep_logs: Path | None = None) -> Iterator[Stack]:
    """A started private stack until the block ends; this process takes its settings (so
    `mesh.settings.load()` and Stack() describe it). Its logs are moved to `keep_logs` when
    it stops (replacing the last run's), so a row that failed can be looked into."""
    folder = Path(tempfile.mkdtemp(prefix="vidmesh-bench-"))
    os.environ.update({**private_env(folder), **BENCH_SETTINGS, **(overrides or {})})
    stack = Stack()
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        if keep_logs is not None and stack.layout.logs.is_dir():
            shutil.rmtree(keep_logs, ignore_errors=True)
            shutil.move(stack.layout.logs, keep_logs)
        shutil.rmtree(folder, ignore_errors=True)


def pid_of(stack: Stack, name: str) -> int:
    """The pid of one of the stack's processes (`video-query-1`, `postgres`)."""
    for state in stack.pc.processes() or []:
        if state.name == name and state.running:
            return state.pid
    raise LookupError(f"{name} is not running in the stack")


def memory_mib(stack: Stack) -> dict[str, float]:
    """Memory (PSS) of each running process of the stack, children included, in MiB."""
    return {state.name: tree_memory(state.pid) / 2**20 for state in stack.pc.processes() or [] if state.running}


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU time each running process of the stack has used so far, children included, in seconds."""
    return {state.name: tree_cpu_seconds(state.pid) for state in stack.pc.processes() or [] if state.running}


class PeakMemory:
    """Samples every process's memory in the background; `peak` is the largest seen of each."""

    def __init__(self, stack: Stack) -> None:
        self._stack, self.peak = stack, dict[str, float]()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-memory", daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            for name, mib in memory_mib(self._stack).items():
                self.peak[name] = max(self.peak.get(name, 0.0), mib)
