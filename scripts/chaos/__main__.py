"""`make chaos` / `python -m scripts.chaos --cycles N --seed S`: a fault campaign on a private
stack of its own (its own ports and folders under .run/chaos/, so a running stack is left
alone), then the table of every effect and a JSON file to replay it from.

`--running` runs it on the stack this environment's settings name, already running, instead
(how `tests/stack/test_chaos.py` runs its short campaign, in a process of its own: grpc reads
the identity a process calls the mesh as once per process).

Exit status 0 only when nothing was lost, duplicated or phantom, every cycle converged and
the workload itself had no error.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path

from mesh.settings import ROOT, load
from scripts.chaos.campaign import Campaign, Outcome
from scripts.chaos.private_stack import interrupt_on_signals, private_stack
from scripts.chaos.report import table, write_json
from scripts.console import say
from scripts.devstack.private import private_env

RUN = ROOT / ".run" / "chaos"


def passed(outcome: Outcome) -> bool:
    """Nothing lost, duplicated or phantom; every cycle converged; no bug in the workload."""
    return (outcome.verdict.clean and all(c.converged_s is not None for c in outcome.cycles)
            and not outcome.workload_errors)


def _on_a_private_stack(seed: int, cycles: int, *, network: bool, fresh: bool) -> Outcome:
    folder = RUN / "stack"
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
    env = private_env(folder)
    say(f"chaos: starting a private stack in {folder} ...")
    with private_stack(env):
        return Campaign(load(environ=env), seed=seed, cycles=cycles, network=network, say=say).run()


def main() -> int:
    parser = argparse.ArgumentParser(prog="chaos", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--cycles", type=int, default=100, help="how many fault cycles (100)")
    parser.add_argument("--seed", type=int, default=None, help="the schedule's seed (random, and printed)")
    parser.add_argument("--fresh", action="store_true", help="delete the private stack's data first")
    parser.add_argument("--network", action="store_true",
                        help="network faults too: toxics on the clients' link to the gateway (toxiproxy)")
    parser.add_argument("--running", action="store_true",
                        help="on the running stack of this environment's settings, not a private one")
    parser.add_argument("--out", type=Path, default=RUN, help=f"where the JSON file goes ({RUN.relative_to(ROOT)})")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    say(f"chaos: seed {seed}, {args.cycles} cycles{' with network faults' if args.network else ''}")
    try:
        if args.running:
            interrupt_on_signals()
            outcome = Campaign(load(), seed=seed, cycles=args.cycles, network=args.network, say=say).run()
        else:
            outcome = _on_a_private_stack(seed, args.cycles, network=args.network, fresh=args.fresh)
    except KeyboardInterrupt as why:
        say(f"chaos: interrupted ({why or 'SIGINT'}); faults undone{'' if args.running else ', private stack stopped'}",
            stream=sys.stderr)
        return 130
    say("\n" + table(outcome))
    say(f"\nthe whole run: {write_json(outcome, args.out)}")
    for error in outcome.workload_errors[:3]:
        say(f"workload error:\n{error}", stream=sys.stderr)
    return 0 if passed(outcome) else 1


if __name__ == "__main__":
    sys.exit(main())
