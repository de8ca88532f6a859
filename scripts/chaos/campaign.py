"""One chaos campaign against a running stack: the workload writes, the schedule's faults
strike and heal, and after every cycle the checker waits for the read models to converge.

A cycle: the workload runs for a moment, the cycle's faults are injected and awaited until
healed, the workload runs a moment longer and is paused (its writes in flight finish or run
out of retries), then the checker reads what the cycle's writes touched until every effect is
as the history allows, or the convergence bound passes. The time from the last heal to that
point is the cycle's convergence time. After the last cycle the checker reads everything.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from mesh.settings import Settings
from scripts.chaos import effects
from scripts.chaos.facts import VIDEO_OPS, Facts
from scripts.chaos.faults import Injected, Injector, Stack
from scripts.chaos.history import History, Op
from scripts.chaos.network import Toxiproxy
from scripts.chaos.observe import Observer
from scripts.chaos.observed import Scope
from scripts.chaos.schedule import Cycle, plan
from scripts.chaos.verdict import Verdict, Violation
from scripts.chaos.workload import Workload
from scripts.devstack.layout import Layout
from scripts.toolchain import Toolchain

BEFORE_S, AFTER_S = 2.0, 2.0  # the workload writes this long before the faults and after they healed
CONVERGE_S = 180.0  # the bound on convergence after a cycle
READY_S = 240.0  # the bound on the whole stack being ready before a cycle


@dataclass(kw_only=True)
class CycleResult:
    """One cycle: its faults, how many writes it saw, how long the read models took to converge."""

    index: int
    faults: list[Injected]
    ops: int
    converged_s: float | None  # None: not within CONVERGE_S
    totals: dict[str, int]
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """As stored in the run's JSON file."""
        return {"index": self.index, "faults": [f.to_json() for f in self.faults], "ops": self.ops,
                "converged_s": self.converged_s, "totals": self.totals, "notes": self.notes}


@dataclass(kw_only=True)
class Outcome:
    """A whole campaign: every cycle, the history and the final verdict."""

    seed: int
    schedule: list[Cycle]
    cycles: list[CycleResult]
    history: History
    verdict: Verdict
    workload_errors: list[str]


class Campaign:
    """Chaos against the stack that `settings` describes (it must be running and healthy)."""

    def __init__(self, settings: Settings, *, seed: int, cycles: int, network: bool = False,
                 say: Any = print) -> None:
        self.settings, self.seed, self.cycle_count, self._say = settings, seed, cycles, say
        self._t0 = time.monotonic()
        self.history = History()
        self.stack = Stack(settings)
        self.network = Toxiproxy(str(Toolchain(settings.cache_dir).go_binary("toxiproxy")), settings.host,
                                 f"{settings.host}:{settings.envoy_port}",
                                 Layout(settings).log("toxiproxy")) if network else None
        self.injector = Injector(self.stack, self.clock, self.network)
        gateway = self.network.url if self.network else f"http://{settings.host}:{settings.envoy_port}"
        self.workload = Workload(gateway, self.history, self.clock, seed=seed)
        self.observer = Observer(settings, Layout(settings).maildir)

    def clock(self) -> float:
        """Seconds since the campaign began: every time in the history and the report."""
        return time.monotonic() - self._t0

    def run(self) -> Outcome:
        """Set up, run every cycle, check everything; always stops the workload (and the proxy)."""
        with self.network or contextlib.nullcontext():
            return self._run()

    def _run(self) -> Outcome:
        schedule = plan(self.seed, self.cycle_count, self.stack.instances(), network=self.network is not None)
        results: list[CycleResult] = []
        try:
            self._wait_ready()
            self.workload.setup()
            for cycle in schedule:
                results.append(self._cycle(cycle))
            verdict, _ = self._converge(self._everything(), since=self.clock())
        finally:
            self.workload.pause()
            self.workload.stop()
            self.observer.close()
        return Outcome(seed=self.seed, schedule=schedule, cycles=results, history=self.history, verdict=verdict,
                       workload_errors=self.workload.errors)

    def _cycle(self, cycle: Cycle) -> CycleResult:
        notes = [] if self._wait_ready() else ["the stack was not all ready when the cycle began"]
        first = len(self.history.ops)
        self.workload.resume()
        time.sleep(BEFORE_S)
        injected = self.injector.run_all(cycle.faults)
        time.sleep(AFTER_S)
        self.workload.pause()
        ops = self.history.ops[first:]
        healed = [record.healed for record in injected]
        since = max((h for h in healed if h is not None), default=self.clock())
        verdict, converged = self._converge(self._scope_of(ops), since=since)
        result = CycleResult(index=cycle.index, faults=injected, ops=len(ops), notes=notes, totals=verdict.totals(),
                             converged_s=None if converged is None else round(converged - since, 2))
        took = "NOT within the bound" if result.converged_s is None else f"in {result.converged_s:.1f}s"
        faults = ", ".join(record.fault.describe() for record in injected)
        self._say(f"cycle {cycle.index:3d}: {faults:<48} {len(ops):4d} writes, converged {took}")
        return result

    def _converge(self, scope: Scope, since: float) -> tuple[Verdict, float | None]:
        """Read and check until clean or CONVERGE_S after `since`; the verdict and when it was clean."""
        while True:
            try:
                verdict = effects.check(Facts.of(self.history.ops), self.observer.read(scope))
            except Exception as error:  # a read model still away: read again
                verdict = Verdict(violations=[Violation(effect="(reading the read models)", wrong="lost", where="",
                                                        detail=f"{type(error).__name__}: {str(error)[:200]}")])
            if verdict.clean:
                return verdict, self.clock()
            if self.clock() - since > CONVERGE_S:
                return verdict, None
            time.sleep(0.5)  # the polling interval of a bounded wait

    def _scope_of(self, ops: list[Op]) -> Scope:
        """The videos and users the ops touched, and who must hear of what they did."""
        facts = Facts.of(self.history.ops)
        scope = Scope()
        for op in ops:
            video = op.answer.get("videoId") if op.kind == "create" else op.target if op.kind in VIDEO_OPS else ""
            if video:
                scope.videos.add(video)
                owner = facts.owner_of.get(video, op.actor)
                scope.owners.add(owner)
                scope.users |= {owner, *(f.actor for f in facts.follows.get(owner, []))}
            scope.users |= {user for user in (op.actor, op.target if op.kind == "follow" else "") if user}
            if op.kind == "create":
                scope.owners.add(op.actor)
            if op.kind == "register":
                scope.emails.add(op.body["email"])
        scope.users &= set(facts.users())
        scope.emails |= {facts.emails[user] for user in scope.users}
        return scope

    def _everything(self) -> Scope:
        facts = Facts.of(self.history.ops)
        return Scope(videos=set(facts.owner_of), owners={op.actor for op in facts.creates}, users=set(facts.users()),
                     emails=set(facts.registrations))

    def _wait_ready(self) -> bool:
        """Wait (bounded) until every long-running process runs and passes its probe."""
        deadline = time.monotonic() + READY_S
        while time.monotonic() < deadline:
            states = self.stack.states()
            waiting = [name for name, state in states.items() if not state.completed
                       and not (state.running and self.stack.ready(name))]
            if states and not waiting:
                return True
            time.sleep(0.5)  # the polling interval of a bounded wait
        return False
