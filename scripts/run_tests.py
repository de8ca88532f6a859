"""`make test`: start the stack (or reuse a healthy one), run pytest, the Go tests (with
their integration tests against the same stack) and the Go client, stop what was started.
`--pytest-only` first runs pytest alone (`make conformance`).

tests/stack runs in a pytest session of its own beside the others: its tests start, kill and
stop private stacks (own ports and folders) and spend most of their minutes waiting for them,
so on 2 cores the two sessions together take little more than the longer one. Its output is
printed when both are done (and is in .run/logs/test-stack.log).

The pytest session itself never stops the stack, so several sessions (or a developer's
`make start`) can share one; only this wrapper, which knows it started it, stops it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mesh.settings import load
from scripts import golang
from scripts.devstack.layout import Layout
from scripts.devstack.stack import Stack
from scripts.toolchain import Toolchain

BESIDE = "tests/stack"


def pytest_in_two(pytest_args: list[str]) -> int:
    """pytest over `pytest_args`, with BESIDE (when asked for) in a second session at the same time."""
    options = [arg for arg in pytest_args if arg.startswith("-")]
    if BESIDE not in pytest_args:
        return subprocess.call([sys.executable, "-m", "pytest", *pytest_args])
    log = Layout(load()).logs / "test-stack.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        beside = subprocess.Popen([sys.executable, "-m", "pytest", *options, BESIDE], stdout=out,
                                  stderr=subprocess.STDOUT)
    print(f"test: {BESIDE} runs beside the others (its output follows theirs)", flush=True)
    try:
        failed = subprocess.call([sys.executable, "-m", "pytest", *[a for a in pytest_args if a != BESIDE]])
    finally:
        beside_failed = beside.wait()
    print(f"test: {BESIDE}, which ran beside them:", flush=True)
    sys.stdout.write(Path(log).read_text())
    sys.stdout.flush()
    return failed or beside_failed


def main(pytest_args: list[str]) -> int:
    pytest_only = pytest_args[:1] == ["--pytest-only"]
    pytest_args = pytest_args[1:] if pytest_only else pytest_args
    stack = Stack()
    print("test: starting the stack (or reusing a running one) ...", flush=True)
    started = stack.ensure_started()
    try:
        failed = pytest_in_two(pytest_args)
        if pytest_only:
            return failed
        print("test: go test ./... (unit and integration)", flush=True)
        go_failed = golang.test(Toolchain(load().cache_dir), integration=True)
        print("test: the Go client (vidmesh-cli check) through the gateway", flush=True)
        cli_failed = golang.cli()
        return failed or go_failed or cli_failed
    finally:
        if started:
            print("test: stopping the stack this run started", flush=True)
            stack.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
