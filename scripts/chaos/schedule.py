"""The fault schedule: a pure function of the seed, so a failing run can be replayed.

Each cycle has one fault, or two at once on different processes:

- kill:      kill -9 of the process; the stack starts it again (restart: always);
- freeze:    SIGSTOP of the process and its children for a few seconds, then SIGCONT (a hung
             process: its port still accepts connections, nothing answers);
- relay:     video-command killed in the middle of publishing its outbox: Kafka is frozen
             while writes pile up unsent rows, the relay is killed with its batch in flight,
             then Kafka resumes (and may append what the dead producer had sent);
- roll:      a SIGTERM rolling restart of every service instance, one at a time (alone);
- network:   with `network=True`, a toxic on the clients' link to the gateway (network.py),
             added to some one-fault cycles from a random stream of its own, so a seed's
             process faults are the same with or without it.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any, Literal

from scripts.chaos.network import TOXICS

Kind = Literal["kill", "freeze", "relay", "roll", "network"]
INFRASTRUCTURE = ("postgres", "kafka", "consul", "envoy", "xds")
RELAY_TARGET = "video-command-0"
TWO_AT_ONCE = 0.3  # the share of cycles with two faults
SPECIAL = 0.08  # the share of cycles that are a relay kill, and again of those that are a rolling restart
FREEZE_S = (2.0, 8.0)
SECOND_AFTER_S = (0.0, 3.0)  # the second fault of a cycle starts this long after the first
NETWORK_SHARE = 0.25  # of the one-fault cycles, with network faults on
GATEWAY_LINK = "gateway-link"


@dataclass(frozen=True, kw_only=True)
class Fault:
    """One fault of a cycle."""

    kind: Kind
    target: str  # a process name of the stack ("" for a rolling restart)
    after_s: float = 0.0  # since the cycle's faults began
    hold_s: float = 0.0  # how long a freeze (or the relay's frozen Kafka, or a toxic) lasts
    toxic: str = ""  # a network fault's toxic (network.TOXICS)

    def describe(self) -> str:
        """A short line for the report."""
        if self.kind == "roll":
            return "rolling SIGTERM restart"
        held = f" {self.hold_s:.1f}s" if self.hold_s else ""
        verb = {"kill": "kill -9", "freeze": "SIGSTOP", "relay": "kill -9 mid-publish",
                "network": f"{self.toxic} on"}[self.kind]
        return f"{verb} {self.target}{held}"

    def to_json(self) -> dict[str, Any]:
        """As stored in the run's JSON file."""
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class Cycle:
    """The faults of one cycle."""

    index: int
    faults: tuple[Fault, ...]


def plan(seed: int, cycles: int, instances: list[str], *, network: bool = False) -> list[Cycle]:
    """The schedule for `cycles` cycles over the infrastructure and these service instances."""
    rng, wire = random.Random(seed), random.Random(f"{seed}-network")
    targets = [*INFRASTRUCTURE, *instances]
    schedule = [Cycle(index=n, faults=_faults(rng, targets)) for n in range(cycles)]
    if not network:
        return schedule
    return [Cycle(index=c.index, faults=(*c.faults, _network(wire))) if _wired(wire, c) else c for c in schedule]


def _wired(wire: random.Random, cycle: Cycle) -> bool:
    draw = wire.random()  # drawn for every cycle, so each cycle's draw depends on the seed alone
    return draw < NETWORK_SHARE and len(cycle.faults) == 1 and cycle.faults[0].kind in ("kill", "freeze")


def _network(wire: random.Random) -> Fault:
    return Fault(kind="network", target=GATEWAY_LINK, toxic=wire.choice(tuple(TOXICS)),
                 after_s=round(wire.uniform(*SECOND_AFTER_S), 1), hold_s=round(wire.uniform(*FREEZE_S), 1))


def _faults(rng: random.Random, targets: list[str]) -> tuple[Fault, ...]:
    draw = rng.random()
    if draw < SPECIAL:
        return (Fault(kind="relay", target=RELAY_TARGET, hold_s=round(rng.uniform(*FREEZE_S), 1)),)
    if draw < 2 * SPECIAL:
        return (Fault(kind="roll", target=""),)
    first = _one(rng, rng.choice(targets), 0.0)
    if rng.random() >= TWO_AT_ONCE:
        return (first,)
    second = rng.choice([target for target in targets if target != first.target])
    return first, _one(rng, second, round(rng.uniform(*SECOND_AFTER_S), 1))


def _one(rng: random.Random, target: str, after_s: float) -> Fault:
    if rng.random() < 0.5:
        return Fault(kind="kill", target=target, after_s=after_s)
    return Fault(kind="freeze", target=target, after_s=after_s, hold_s=round(rng.uniform(*FREEZE_S), 1))
