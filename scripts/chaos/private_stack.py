"""Start and stop a private stack (its own ports and folders) for a campaign or a soak."""

from __future__ import annotations

import subprocess
import sys

from mesh.settings import ROOT

START_S = 900.0  # a first start formats Kafka and runs initdb, on a machine others share


def devstack(command: str, env: dict[str, str]) -> None:
    """`python -m scripts.devstack start|down` with the private stack's environment; fails with its output."""
    result = subprocess.run([sys.executable, "-m", "scripts.devstack", command], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=START_S)
    if result.returncode != 0:
        raise SystemExit(f"`devstack {command}` failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
