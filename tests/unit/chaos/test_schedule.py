"""The fault schedule is a function of its seed: one or two faults a cycle, on different processes."""

from __future__ import annotations

from collections import Counter

from scripts.chaos.network import TOXICS
from scripts.chaos.schedule import GATEWAY_LINK, INFRASTRUCTURE, RELAY_TARGET, plan

INSTANCES = ["users-0", "video-command-0", "video-query-0", "video-query-1", "notification-0", "email-0",
             "web-bff-0", "mobile-bff-0"]


def test_the_same_seed_gives_the_same_schedule_and_another_seed_another() -> None:
    assert plan(7, 50, INSTANCES) == plan(7, 50, INSTANCES)
    assert plan(7, 50, INSTANCES) != plan(8, 50, INSTANCES)


def test_a_cycle_has_one_or_two_faults_on_different_processes() -> None:
    for cycle in plan(3, 500, INSTANCES):
        targets = [fault.target for fault in cycle.faults]
        assert 1 <= len(targets) <= 2 and len(set(targets)) == len(targets)
        assert all(t in (*INFRASTRUCTURE, *INSTANCES) for t in targets if t)


def test_a_rolling_restart_and_a_relay_kill_come_alone() -> None:
    for cycle in plan(5, 500, INSTANCES):
        kinds = {fault.kind for fault in cycle.faults}
        if kinds & {"roll", "relay"}:
            assert len(cycle.faults) == 1
        if "relay" in kinds:
            assert cycle.faults[0].target == RELAY_TARGET and cycle.faults[0].hold_s > 0


def test_a_long_campaign_strikes_every_kind_and_every_process() -> None:
    faults = [fault for cycle in plan(11, 300, INSTANCES) for fault in cycle.faults]
    assert set(Counter(f.kind for f in faults)) == {"kill", "freeze", "relay", "roll"}
    assert {f.target for f in faults if f.kind in ("kill", "freeze")} == {*INFRASTRUCTURE, *INSTANCES}


def test_network_faults_join_some_one_fault_cycles_and_leave_the_process_faults_as_they_were() -> None:
    without, wired = plan(13, 300, INSTANCES), plan(13, 300, INSTANCES, network=True)
    assert plan(13, 300, INSTANCES, network=True) == wired
    added = 0
    for plain, cycle in zip(without, wired, strict=True):
        assert cycle.faults[:len(plain.faults)] == plain.faults
        extra = cycle.faults[len(plain.faults):]
        if extra:
            added += 1
            [network] = extra
            assert len(plain.faults) == 1 and plain.faults[0].kind in ("kill", "freeze")
            assert network.kind == "network" and network.target == GATEWAY_LINK and network.toxic in TOXICS
            assert network.hold_s > 0
    assert 30 < added < 150
    assert {f.toxic for c in wired for f in c.faults if f.kind == "network"} == set(TOXICS)
