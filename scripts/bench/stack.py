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


def main() -> None:
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
    rows = [
        ("make deps, everything cached", f"{deps_s:.2f} s", "< 5 s"),
        ("make start, warm cache, to all healthy", f"{start_s:.1f} s", "<= 30 s"),
        (f"idle infrastructure PSS after {IDLE_SECONDS} s", f"{total_mib(status):.0f} MiB", "<= 1536 MiB"),
    ]
    print("\nnative stack")
    print(f"{'measure':<45} {'value':>10}  target")
    for name, value, target in rows:
        print(f"{name:<45} {value:>10}  {target}")
    print("\n" + status)


if __name__ == "__main__":
    main()
