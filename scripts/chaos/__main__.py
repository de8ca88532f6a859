"""`make chaos` / `python -m scripts.chaos --cycles N --seed S`: a fault campaign on a private
stack of its own (its own ports and folders under .run/chaos/, so a running stack is left
alone), then the table of every effect and a JSON file to replay it from.

Exit status 0 only when nothing was lost, duplicated or phantom, every cycle converged and
the workload itself had no error.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys

from mesh.settings import ROOT, load
from scripts.chaos.campaign import Campaign, Outcome
from scripts.chaos.private_stack import devstack
from scripts.chaos.report import table, write_json
from scripts.console import say
from scripts.devstack.private import private_env

RUN = ROOT / ".run" / "chaos"


def passed(outcome: Outcome) -> bool:
    """Nothing lost, duplicated or phantom; every cycle converged; no bug in the workload."""
    return (outcome.verdict.clean and all(c.converged_s is not None for c in outcome.cycles)
            and not outcome.workload_errors)


def main() -> int:
    parser = argparse.ArgumentParser(prog="chaos", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--cycles", type=int, default=100, help="how many fault cycles (100)")
    parser.add_argument("--seed", type=int, default=None, help="the schedule's seed (random, and printed)")
    parser.add_argument("--fresh", action="store_true", help="delete the private stack's data first")
    parser.add_argument("--network", action="store_true",
                        help="network faults too: toxics on the clients' link to the gateway (toxiproxy)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    folder = RUN / "stack"
    if args.fresh:
        shutil.rmtree(folder, ignore_errors=True)
    env = private_env(folder)
    say(f"chaos: seed {seed}, {args.cycles} cycles{' with network faults' if args.network else ''}; "
        f"starting a private stack in {folder} ...")
    try:  # a start cut short (Ctrl-C) is stopped too
        devstack("start", env)
        outcome = Campaign(load(environ=env), seed=seed, cycles=args.cycles, network=args.network, say=say).run()
    finally:
        devstack("down", env)
    say("\n" + table(outcome))
    say(f"\nthe whole run: {write_json(outcome, RUN)}")
    for error in outcome.workload_errors[:3]:
        say(f"workload error:\n{error}", stream=sys.stderr)
    return 0 if passed(outcome) else 1


if __name__ == "__main__":
    sys.exit(main())
