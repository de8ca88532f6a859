"""`make soak MINUTES=30`: steady load on a private stack of its own (.run/soak/), then a report:
every process's memory staying flat, the outbox, inbox and request-id tables staying bounded
(retention lowered to VIDMESH_RETENTION_SECONDS=60 for the run, so it prunes many times, and
Jaeger's trace bound to VIDMESH_JAEGER_MAX_TRACES=1000, so its memory store fills within the
warm-up and what is judged is its memory once full), no
failed write and no error line in any log, and the exactly-once checker over the whole run.

Exit status 0 only when all of that holds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import threading
import time
from typing import Any

from mesh.settings import ROOT, Settings, load
from scripts.chaos import effects
from scripts.chaos.facts import Facts
from scripts.chaos.faults import Stack
from scripts.chaos.history import History
from scripts.chaos.observe import Observer
from scripts.chaos.observed import Scope
from scripts.chaos.private_stack import private_stack
from scripts.chaos.workload import Workload
from scripts.console import say
from scripts.devstack.layout import Layout
from scripts.devstack.private import private_env
from scripts.soak.samples import Series, error_lines, memory, table_rows

RUN = ROOT / ".run" / "soak"
RETENTION_S = "60"
JAEGER_MAX_TRACES = "1000"  # this load fills it within minutes, well inside the warm-up quarter
SAMPLE_S = 30.0


def sample(settings: Settings, stack: Stack, began: float, stop: threading.Event,
           series: dict[str, Series]) -> None:
    """Sample memory and table sizes every SAMPLE_S until stopped."""
    while not stop.is_set():
        at = round(time.monotonic() - began, 1)
        for name, value in [*memory(stack.states()).items(), *table_rows(settings).items()]:
            series.setdefault(name, Series(name=name)).points.append((at, value))
        stop.wait(SAMPLE_S)


def soak(settings: Settings, minutes: float) -> dict[str, Any]:
    """Run the load for `minutes`, sampling; return the report's data."""
    history, began, stop = History(), time.monotonic(), threading.Event()
    workload = Workload(f"http://{settings.host}:{settings.envoy_port}", history, lambda: time.monotonic() - began,
                        seed=0)
    series: dict[str, Series] = {}
    sampler = threading.Thread(target=sample, args=(settings, Stack(settings), began, stop, series), daemon=True)
    workload.setup()
    sampler.start()
    workload.resume()
    time.sleep(minutes * 60)
    workload.pause()
    workload.stop()
    stop.set()
    sampler.join(timeout=60)
    facts, observer = Facts.of(history.ops), Observer(settings, Layout(settings).maildir)
    try:
        verdict = effects.check(facts, observer.read(Scope(
            videos=set(facts.owner_of), owners={op.actor for op in facts.creates}, users=set(facts.users()),
            emails=set(facts.registrations))))
    finally:
        observer.close()
    failed = [op for op in history.ops if op.intent == "apply" and op.outcome != "ok"]
    return {"minutes": minutes, "writes": len(history.ops), "failed_writes": len(failed),
            "failures": [f"op {op.seq} {op.kind}: {[a.status for a in op.attempts]}" for op in failed[:20]],
            "workload_errors": workload.errors, "error_lines": error_lines(Layout(settings).logs),
            "verdict": verdict.to_json(), "series": {name: s.points for name, s in series.items()},
            "memory_flat": {n: s.flat() for n, s in series.items() if "." not in n},
            "tables_bounded": {n: s.bounded() for n, s in series.items() if "." in n}}


def table(report: dict[str, Any]) -> str:
    """The report as text."""
    rows = [f"{'process (PSS)':<18}{'start MiB':>11}{'end MiB':>10}{'max MiB':>10}  flat"]
    points = report["series"]
    for name, flat in sorted(report["memory_flat"].items()):
        values = [v for _, v in points[name]]
        rows.append(f"{name:<18}{values[0]:>11.0f}{values[-1]:>10.0f}{max(values):>10.0f}  {'yes' if flat else 'NO'}")
    rows += ["", f"{'table':<36}{'max rows':>10}{'end rows':>10}  bounded"]
    for name, bounded in sorted(report["tables_bounded"].items()):
        values = [int(v) for _, v in points[name]]
        rows.append(f"{name:<36}{max(values):>10}{values[-1]:>10}  {'yes' if bounded else 'NO'}")
    totals = report["verdict"]["totals"]
    rows += ["", f"{report['writes']} writes in {report['minutes']} min, {report['failed_writes']} failed; "
             f"error lines in logs: {report['error_lines'] or 'none'}; checker: {totals}"]
    return "\n".join(rows)


def passed(report: dict[str, Any]) -> bool:
    """Flat, bounded, no failure, no error line, nothing lost, duplicated or phantom."""
    return (all(report["memory_flat"].values()) and all(report["tables_bounded"].values())
            and not report["failed_writes"] and not report["workload_errors"] and not report["error_lines"]
            and not any(report["verdict"]["totals"].values()))


def main() -> int:
    parser = argparse.ArgumentParser(prog="soak", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="how long the load runs (30)")
    args = parser.parse_args()
    folder = RUN / "stack"
    shutil.rmtree(folder, ignore_errors=True)  # a soak starts from empty tables
    env = {**private_env(folder), "VIDMESH_RETENTION_SECONDS": RETENTION_S,
           "VIDMESH_JAEGER_MAX_TRACES": JAEGER_MAX_TRACES}
    say(f"soak: {args.minutes:g} minutes of load on a private stack in {folder} (retention {RETENTION_S} s, "
        f"Jaeger keeps {JAEGER_MAX_TRACES} traces) ...")
    with private_stack(env):
        report = soak(load(environ=env), args.minutes)
    say(table(report))
    path = RUN / f"soak-{args.minutes:g}min.json"
    path.write_text(json.dumps(report, indent=1, default=str))
    say(f"\nthe whole run: {path}")
    return 0 if passed(report) else 1


if __name__ == "__main__":
    sys.exit(main())
