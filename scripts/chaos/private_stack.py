"""Start and stop a private stack (its own ports and folders) for a campaign or a soak.

    with private_stack(env):   # started; stopped when the block ends, however it ends
        ...

A long run is stopped with Ctrl-C or SIGTERM, both turned into KeyboardInterrupt so that every
`finally` runs: the frozen processes get SIGCONT, the toxics come off, the stack goes down.
SIGINT is set explicitly because a process started in the background by a shell without job
control inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from mesh.settings import ROOT

START_S = 900.0  # a first start formats Kafka and runs initdb, on a machine others share


def devstack(command: str, env: dict[str, str]) -> None:
    """`python -m scripts.devstack start|down` with the private stack's environment; fails with its output."""
    result = subprocess.run([sys.executable, "-m", "scripts.devstack", command], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=START_S)
    if result.returncode != 0:
        raise SystemExit(f"`devstack {command}` failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def interrupt_on_signals() -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt in the main thread from now on."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupted)


@contextmanager
def private_stack(env: dict[str, str]) -> Iterator[None]:
    """The private stack `env` describes, started for the block and stopped after it (a start
    cut short included)."""
    interrupt_on_signals()
    try:
        devstack("start", env)
        yield
    finally:
        # A second Ctrl-C must not cut the stack's own stop short.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN), signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            devstack("down", env)
        finally:
            signal.signal(signal.SIGINT, previous[0])
            signal.signal(signal.SIGTERM, previous[1])
