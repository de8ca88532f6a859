"""A short chaos campaign on the disruptive tests' private stack (a fresh clone's): a fixed
seed's three cycles of faults (Kafka frozen while users is killed, a frozen video-query, and
video-command killed in the middle of publishing its outbox) under a workload of real clients
through the gateway, then the checker over every read model: nothing lost, nothing doubled,
nothing a refused write did. `make chaos` runs the long campaign on a stack of its own.

The campaign runs as `python -m scripts.chaos --running` in a process of its own: its checker
calls the clone's services over mutual TLS as that stack's operator, and grpc reads the
identity a process calls with once per process (this session's is the shared stack's)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from mesh.settings import ROOT
from tests.stack.conftest import FIRST_START_S, Newcomer

SEED, CYCLES = 77, 3  # kill -9 users-0 with Kafka frozen; SIGSTOP video-query-1; kill -9 mid-publish
RUN_TIMEOUT_S = 290  # the campaign's own bound, so a hung campaign still prints what it did
# The test's bound: the shared private stack's first start (this test often runs first, and
# waits for it: up to FIRST_START_S), then the campaign. With pytest's default 300 s for both,
# a slow first start left the campaign too little time and it was killed before it could say
# what it had done (and with a process of the stack perhaps still frozen by it).
pytestmark = pytest.mark.timeout(FIRST_START_S + RUN_TIMEOUT_S + 60)
OUT = ROOT / ".run" / "chaos" / "tests"


def test_a_short_chaos_run_loses_nothing_doubles_nothing_and_invents_nothing(newcomer: Newcomer) -> None:
    waited = time.monotonic()
    newcomer.wait_healthy()
    print(f"\nthe stack was healthy after {time.monotonic() - waited:.0f} s of waiting")
    result = OUT / f"chaos-seed{SEED}-{CYCLES}cycles.json"
    result.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "scripts.chaos", "--running", "--seed", str(SEED), "--cycles", str(CYCLES),
         "--out", str(OUT)], cwd=newcomer.clone, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        env={**newcomer.env, "PYTHONPATH": f"{newcomer.clone}:{newcomer.clone / 'gen' / 'python'}"}, check=False)
    report = done.stdout[-6000:] + done.stderr[-3000:]
    print(f"\n{report}\nthe whole run: {result}")
    assert result.is_file(), f"the campaign wrote no result (exit {done.returncode}):\n{report}"
    run = json.loads(result.read_text())
    assert run["workload_errors"] == [], report
    assert run["verdict"]["totals"] == {"lost": 0, "duplicated": 0, "phantom": 0}, report
    assert [cycle["converged_s"] is not None for cycle in run["cycle_results"]] == [True] * CYCLES, report
    faults = [fault for cycle in run["cycle_results"] for fault in cycle["faults"]]
    assert all(fault["healed"] is not None for fault in faults), report
    assert {fault["kind"] for fault in faults} == {"kill", "freeze", "relay"}
    [relay] = [fault for fault in faults if fault["kind"] == "relay"]
    assert relay["unsent_at_kill"], "video-command was not killed with outbox rows still to publish"
    assert done.returncode == 0, report
