"""A steady background load through the gateway that counts every request that failed.

Each worker is a thread with its own HTTP connection that cycles through its calls, one at
a time, paced so the 2-core machine keeps room for the restarts under test. A call returns
None when the answer is right, or a short description of what was wrong; an exception
(a timeout, a dropped connection, a gRPC error) counts as a failure too.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.e2e.support.rest import Gateway

Call = Callable[[Gateway, int], str | None]  # (client, iteration) -> None or what went wrong
PACE_S = 0.04  # between two calls of one worker: ~20 calls/s each, far below the gateway's limit


@dataclass
class Report:
    """What the load saw: successes per call name and every failure."""

    ok: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, problem: str | None, at: float) -> None:
        """Count one call."""
        with self.lock:
            if problem is None:
                self.ok[name] += 1
            else:
                self.failures.append(f"+{at:.2f}s {name}: {problem[:300]}")

    @property
    def total(self) -> int:
        """How many calls succeeded."""
        return sum(self.ok.values())


class Load:
    """Workers running until stopped; use as a context manager."""

    def __init__(self, base_url: str, workers: list[list[tuple[str, Call]]], pace_s: float = PACE_S) -> None:
        self.report = Report()
        self._base_url, self._pace_s = base_url, pace_s
        self._stop = threading.Event()
        self._began = time.monotonic()
        self._threads = [threading.Thread(target=self._run, args=(calls,), daemon=True) for calls in workers]

    def __enter__(self) -> Load:
        self._began = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> Report:
        """Stop the workers (each finishes its current call) and return the report."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        return self.report

    def _run(self, calls: list[tuple[str, Call]]) -> None:
        client = Gateway(self._base_url, timeout=12.0)  # above the gateway's 10 s route timeout
        iteration = 0
        try:
            while not self._stop.is_set():
                name, call = calls[iteration % len(calls)]
                try:
                    problem = call(client, iteration)
                except Exception as error:  # any failure of the call is what we count
                    problem = f"{type(error).__name__}: {error}"
                self.report.record(name, problem, time.monotonic() - self._began)
                iteration += 1
                self._stop.wait(self._pace_s)
        finally:
            client.close()
