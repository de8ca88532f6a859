"""Native stack: how long `make deps` takes when cached, how long a warm start takes to
all-healthy, and how much memory the idle infrastructure holds.

Runs a private stack (ports shifted, its own folders) so a running stack is left alone.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from mesh.settings import ROOT
from scripts.devstack.private import private_env

IDLE_SECONDS = 10


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    began = time.monotonic()
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        sys.exit(f"bench: {' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return time.monotonic() - began, result.stdout


def total_mib(status: str) -> float:
    line = next(line for line in status.splitlines() if line.startswith("total"))
    return float(line.split()[-2])


@dataclass(frozen=True)
class Measure:
    """One row: what was measured, its value as printed, its target, and whether it was met."""

    name: str
    value: str
    target: str
    met: bool


def table(measures: list[Measure]) -> str:
    """The rows as printed, each target marked met (✓) or missed (✗) as the price list does."""
    lines = ["native stack", f"{'measure':<45} {'value':>10}  target"]
    lines += [f"{m.name:<45} {m.value:>10}  {m.target} {'✓' if m.met else '✗'}" for m in measures]
    return "\n".join(lines)


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="vidmesh-bench-"))
    env = private_env(folder)
    devstack = [sys.executable, "-m", "scripts.devstack"]
    try:
        deps_s, _ = timed(["python3", "scripts/deps.py"], env)
        timed([*devstack, "start"], env)  # first start: initdb and Kafka format
        timed([*devstack, "down"], env)
        start_s, _ = timed([*devstack, "start"], env)
        time.sleep(IDLE_SECONDS)  # let the JVM and Consul settle: idle memory is what is measured
        _, status = timed([*devstack, "status"], env)
    finally:
        subprocess.run([*devstack, "down"], env=env, cwd=ROOT, capture_output=True, timeout=300)
        shutil.rmtree(folder, ignore_errors=True)
    memory_mib = total_mib(status)
    measures = [
        Measure("make deps, everything cached", f"{deps_s:.2f} s", "< 5 s", deps_s < 5),
        Measure("make start, warm cache, to all healthy", f"{start_s:.1f} s", "<= 30 s", start_s <= 30),
        Measure(f"idle infrastructure PSS after {IDLE_SECONDS} s", f"{memory_mib:.0f} MiB", "<= 1536 MiB",
                memory_mib <= 1536),
    ]
    print("\n" + table(measures))
    print("\n" + status)
    return 0 if all(m.met for m in measures) else 1


if __name__ == "__main__":
    sys.exit(main())
