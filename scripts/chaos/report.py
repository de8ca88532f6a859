"""The campaign's report: a table on stdout and a JSON file under .run/chaos/ holding the seed,
the schedule, every cycle, every write with its attempts, and the verdict."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import psutil

from scripts.chaos.campaign import Outcome

COLUMNS = ("checked", "right", "lost", "duplicated", "phantom", "uncertain", "replayed")


def machine() -> dict[str, Any]:
    """Where the run ran: it decides how long healing and convergence take."""
    return {"host": platform.node(), "cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30),
            "python": platform.python_version(), "load_average": [round(x, 1) for x in os.getloadavg()]}


def convergence(outcome: Outcome) -> dict[str, float | int | None]:
    """The median and worst convergence time after a cycle's last fault, and how many never did."""
    times = [c.converged_s for c in outcome.cycles if c.converged_s is not None]
    return {"median_s": round(statistics.median(times), 2) if times else None,
            "worst_s": max(times) if times else None,
            "not_converged": sum(c.converged_s is None for c in outcome.cycles)}


def table(outcome: Outcome) -> str:
    """The effects table, then the writes, the faults and the convergence times."""
    rows = [f"{'effect':<34}" + "".join(f"{name:>11}" for name in COLUMNS)]
    for tally in outcome.verdict.tallies.values():
        rows.append(f"{tally.effect:<34}" + "".join(f"{getattr(tally, name):>11}" for name in COLUMNS))
    totals = outcome.verdict.totals()
    rows.append(f"{'total':<34}{'':>22}" + "".join(f"{totals[name]:>11}" for name in ("lost", "duplicated", "phantom")))
    ops = outcome.history.ops
    outcomes = Counter(op.outcome for op in ops)
    unexpected = sum(op.intent == "apply" and op.outcome == "refused" for op in ops)
    rows += ["", f"writes: {len(ops)} ({', '.join(f'{n} {k}' for k, n in sorted(outcomes.items()))}); "
             f"{sum(op.retried for op in ops)} retried, {sum(op.uncertain_once for op in ops)} answered after an "
             f"attempt that may have applied; {sum(op.intent != 'apply' for op in ops)} meant to be refused, "
             f"{unexpected} refused though meant to apply"]
    kinds = Counter(f.fault.kind for c in outcome.cycles for f in c.faults)
    times = convergence(outcome)
    rows += [f"faults: {cycles(len(outcome.cycles))}, " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())),
             f"converged after the last fault of a cycle: median {times['median_s']} s, worst {times['worst_s']} s, "
             f"{cycles(int(times['not_converged'] or 0))} not within the bound"]
    return "\n".join(rows)


def cycles(n: int) -> str:
    return f"{n} cycle" if n == 1 else f"{n} cycles"


def write_json(outcome: Outcome, folder: Path) -> Path:
    """The whole run as JSON; its name carries the seed."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"chaos-seed{outcome.seed}-{len(outcome.cycles)}cycles.json"
    path.write_text(json.dumps({
        "seed": outcome.seed, "cycles": len(outcome.cycles), "machine": machine(),
        "replay": f"python -m scripts.chaos --cycles {len(outcome.schedule)} --seed {outcome.seed}"
                  + (" --network" if any(f.kind == "network" for c in outcome.schedule for f in c.faults) else ""),
        "convergence": convergence(outcome), "verdict": outcome.verdict.to_json(),
        "workload_errors": outcome.workload_errors,
        "schedule": [[fault.to_json() for fault in cycle.faults] for cycle in outcome.schedule],
        "cycle_results": [cycle.to_json() for cycle in outcome.cycles],
        "history": outcome.history.to_json(),
    }, indent=1))
    return path
