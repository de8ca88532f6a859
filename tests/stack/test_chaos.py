"""A short chaos campaign on the disruptive tests' private stack (a fresh clone's): a fixed
seed's three cycles of faults (Kafka frozen while users is killed, a frozen video-query, and
video-command killed in the middle of publishing its outbox) under a workload of real clients
through the gateway, then the checker over every read model: nothing lost, nothing doubled,
nothing a refused write did. `make chaos` runs the long campaign on a stack of its own."""

from __future__ import annotations

from mesh.settings import ROOT
from scripts.chaos.campaign import Campaign
from scripts.chaos.report import table, write_json
from tests.e2e.support.waiting import eventually
from tests.stack.conftest import Newcomer, states

SEED, CYCLES = 77, 3  # kill -9 users-0 with Kafka frozen; SIGSTOP video-query-1; kill -9 mid-publish
FIRST_START_S = 900.0  # the first test to run waits for the clone's first start (it builds .venv and gen/)


def test_a_short_chaos_run_loses_nothing_doubles_nothing_and_invents_nothing(newcomer: Newcomer) -> None:
    eventually(lambda: all(state.done for state in states(newcomer.env).values()) and states(newcomer.env),
               "the fresh clone's stack all healthy", timeout=FIRST_START_S, interval=1.0)
    outcome = Campaign(newcomer.settings, seed=SEED, cycles=CYCLES).run()
    report = table(outcome)
    print(f"\n{report}\nthe whole run: {write_json(outcome, ROOT / '.run' / 'chaos' / 'tests')}")
    assert outcome.workload_errors == []
    assert outcome.verdict.totals() == {"lost": 0, "duplicated": 0, "phantom": 0}, report
    assert [cycle.converged_s is not None for cycle in outcome.cycles] == [True] * CYCLES, report
    assert all(fault.healed is not None for cycle in outcome.cycles for fault in cycle.faults), report
    faults = [fault for cycle in outcome.cycles for fault in cycle.faults]
    assert {fault.fault.kind for fault in faults} == {"kill", "freeze", "relay"}
    [relay] = [fault for fault in faults if fault.fault.kind == "relay"]
    assert relay.unsent_at_kill, "video-command was not killed with outbox rows still to publish"
