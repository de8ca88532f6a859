"""The workload: a few client threads writing through the gateway, paused between cycles.

    workload = Workload(base_url, history, clock, seed=7)
    workload.setup()          # the first accounts, a video each, some follows
    workload.resume()         # the workers write ...
    workload.pause()          # ... and return once every write in flight has an outcome
    workload.stop()
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections.abc import Callable

from scripts.chaos import writes
from scripts.chaos.client import TOKEN_REFRESH_S, Client
from scripts.chaos.history import History
from scripts.chaos.model import Model
from scripts.chaos.writes import Writer

WORKERS = 3
PACE_S = 0.2  # between two writes of one worker: a steady trickle the 2-core machine keeps up with
FIRST_ACCOUNTS = 5


class Workload:
    """Worker threads over one shared model; a paused workload has no write in flight."""

    def __init__(self, base_url: str, history: History, clock: Callable[[], float], *, seed: int,
                 workers: int = WORKERS, pace_s: float = PACE_S) -> None:
        self.model, self.history = Model(), history
        self._base_url, self._clock, self._seed, self._pace_s = base_url, clock, seed, pace_s
        self._running = threading.Event()
        self._stopping = threading.Event()
        self._idle = threading.Semaphore(0)
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True, name=f"chaos-worker-{n}")
                         for n in range(workers)]
        self._started = False
        self.errors: list[str] = []  # bugs of the workload itself: the run is void if there is one

    def writer(self, salt: str) -> Writer:
        """A writer with its own client and random source (close its client when done)."""
        return Writer(model=self.model, history=self.history, client=Client(self._base_url, self._clock),
                      rng=random.Random(f"{self._seed}-{salt}"))

    def setup(self, accounts: int = FIRST_ACCOUNTS) -> None:
        """The first accounts, signed in; a published video each; every one follows some others."""
        w = self.writer("setup")
        try:
            while len(self.model.accounts) < accounts:
                writes.register(w)
            for _ in range(accounts):
                writes.create(w)
                writes.publish(w)
            for _ in range(accounts * 2):
                writes.follow(w)
        finally:
            w.client.close()

    def resume(self) -> None:
        """Let the workers write (starting them the first time)."""
        self._running.set()
        if not self._started:
            self._started = True
            for thread in self._threads:
                thread.start()

    def pause(self, timeout: float = 180.0) -> None:
        """Stop choosing new writes; return once every worker has finished the one in hand
        (a write retries for at most the client's budget, so this is bounded)."""
        if not self._running.is_set():
            return  # paused already
        self._running.clear()
        deadline = time.monotonic() + timeout
        for _ in self._threads if self._started else ():
            if not self._idle.acquire(timeout=max(0.0, deadline - time.monotonic())):
                raise RuntimeError(f"the workload's writes did not finish within {timeout:.0f}s")

    def stop(self) -> None:
        """End the workers (pause first: a stopped workload has nothing in flight)."""
        self._stopping.set()
        self._running.set()
        for thread in self._threads:
            thread.join(timeout=120)

    def _run(self, n: int) -> None:
        w = self.writer(f"worker-{n}")
        try:
            while not self._stopping.is_set():
                if not self._running.is_set():
                    self._idle.release()
                    self._running.wait()
                    continue
                self._refresh_a_token(w)
                try:
                    writes.any_write(w)
                except Exception:  # a bug of the workload must not pass for a fault's effect
                    self.errors.append(traceback.format_exc())
                time.sleep(self._pace_s)
        finally:
            w.client.close()

    def _refresh_a_token(self, w: Writer) -> None:
        with self.model.lock:
            account = w.model.pick_account(w.rng)
        if account is not None and self._clock() - account.signed_in_at > TOKEN_REFRESH_S:
            w.client.sign_in(account)
