"""The intentions of one destination, followed live, and the decision they give one caller.

The rules are the intentions whose destination is this service's identity (`*` included), in
Consul's order, most specific first; the first whose source is the caller (or `*`) decides.
It fails closed: when no rule matches the caller is denied (a default deny, whatever Consul's
own default is), and a rule with per-method permissions (layer 7) denies too, as Consul's own
authorize endpoint does. Before the first answer nothing is decided (`Undecided`).

The rules are read with a blocking query, so a changed intention takes effect within about a
second; with Consul away, the last rules read stay in force (they are still Consul's rules).
Consul's `/v1/agent/connect/authorize` is not used: its answer comes from an agent cache that,
seen with Consul 1.22, kept allowing a caller for minutes after its intention was deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from mesh.backoff import Backoff
from mesh.consul_connect import ConsulConnect, ConsulError, Intention

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Decision:
    """Whether one caller may call, and why (the reason goes to the log and to the caller)."""

    allowed: bool
    reason: str


def decide(rules: Sequence[Intention], source: str) -> Decision:
    """The decision of the first rule (highest precedence first) that names `source` or `*`."""
    for rule in sorted(rules, key=lambda rule: -rule.precedence):
        if rule.source not in (source, "*"):
            continue
        name = f"intention {rule.source} (precedence {rule.precedence})"
        if rule.layer7:
            return Decision(False, f"{name} has per-method permissions, which vidmesh reads as deny")
        return Decision(rule.action == "allow", f"{name}: {rule.action or 'no action'}")
    return Decision(False, "no intention allows it (default deny)")


class Undecided(Exception):
    """The rules are not known yet: the caller should retry (UNAVAILABLE)."""


class Intentions:
    """The intentions of one destination, kept current with a blocking query until `stop()`."""

    def __init__(self, connect: ConsulConnect, destination: str) -> None:
        self.destination = destination
        self._connect = connect
        self._rules: tuple[Intention, ...] | None = None
        self._known = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def known(self) -> bool:
        """Whether the first answer has arrived."""
        return self._known.is_set()

    async def wait_known(self) -> bool:
        """Readiness: wait (the caller bounds it) for the first answer."""
        await self._known.wait()
        return True

    def decide(self, source: str) -> Decision:
        """The decision for a caller named `source`; Undecided before the first answer."""
        if self._rules is None:
            raise Undecided(f"the intentions of {self.destination} are not known yet")
        return decide(self._rules, source)

    def use(self, rules: Sequence[Intention]) -> None:
        """Apply a set of rules (what the watch does with each answer)."""
        if tuple(rules) != self._rules:
            self._rules = tuple(rules)
            log.info("intentions", destination=self.destination,
                     rules=[f"{r.source}:{r.action or 'l7'}:{r.precedence}" for r in self._rules])
        self._known.set()

    async def run(self) -> None:
        """Follow the intentions until `stop()`."""
        self._task = asyncio.create_task(self._follow())
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _follow(self) -> None:
        index: int | None = None
        backoff = Backoff(initial=0.5, maximum=10.0)
        while True:
            try:
                answer = await self._connect.intentions_to(self.destination, index)
            except ConsulError as error:
                delay = backoff.next()
                log.warning("intentions: consul did not answer; the last rules stay in force" if self.known
                            else "intentions: consul did not answer; every caller is refused until it does",
                            destination=self.destination, retry_in_s=delay, error=str(error))
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            if index is not None and answer.index is None:
                await asyncio.sleep(0.1)  # Consul's index went back: start over, but not in a tight loop
            index = answer.index
            self.use(answer.value)

    async def stop(self) -> None:
        """End `run()` (its blocking query is cancelled)."""
        if self._task is not None:
            self._task.cancel()
