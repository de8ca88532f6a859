"""`make demo` (`python -m scripts.demo`): the six patterns, one step each, then the trace of
the tour's publish and a few live metrics, a rehearsed fault, then a summary.

Exit status 0 when every step behaved as described, 1 otherwise, 2 when there is no stack.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable

from scripts.demo import cqrs, discovery, edge, events, faults, isolation, observe, shapes, show
from scripts.demo.calls import StepFailed
from scripts.demo.world import Demo, connect, set_up

STEPS: list[tuple[str, Callable[[Demo], str]]] = [
    ("API Gateway", edge.run),
    ("Service Discovery", discovery.run),
    ("CQRS", cqrs.run),
    ("Backends for Frontends", shapes.run),
    ("Event Driven", events.run),
    ("Database per Service", isolation.run),
    ("Seeing it", observe.run),
    ("Fault injection", faults.run),
]


def run_step(name: str, step: Callable[[Demo], str], demo: Demo) -> tuple[str, bool, str]:
    """One step: its summary line, or what went wrong (the tour goes on with the next)."""
    began = time.monotonic()
    try:
        note = step(demo)
    except StepFailed as error:
        return name, False, str(error)
    except Exception as error:  # a bug or an outage: say so, and go on with the next step
        traceback.print_exc()
        return name, False, f"{type(error).__name__}: {error}"
    return name, True, f"{note} ({time.monotonic() - began:.1f} s)"


def main() -> int:
    """Set up, run every step, print the summary; the exit status says whether all behaved."""
    try:
        demo = connect()
        set_up(demo)
    except StepFailed as error:
        print(f"demo: {error}", file=sys.stderr)
        return 2
    rows = [run_step(name, step, demo) for name, step in STEPS]
    show.summary(rows)
    return 0 if all(passed for _, passed, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
