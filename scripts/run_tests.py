"""`make test`: start the stack (or reuse a healthy one), run pytest, the Go tests (with
their integration tests against the same stack) and the Go client, stop what was started.
`--pytest-only` first runs pytest alone (`make conformance`).

The pytest session itself never stops the stack, so several sessions (or a developer's
`make start`) can share one; only this wrapper, which knows it started it, stops it.
"""

from __future__ import annotations

import subprocess
import sys

from mesh.settings import load
from scripts import golang
from scripts.devstack.stack import Stack
from scripts.toolchain import Toolchain


def main(pytest_args: list[str]) -> int:
    pytest_only = pytest_args[:1] == ["--pytest-only"]
    pytest_args = pytest_args[1:] if pytest_only else pytest_args
    stack = Stack()
    print("test: starting the stack (or reusing a running one) ...", flush=True)
    started = stack.ensure_started()
    try:
        failed = subprocess.call([sys.executable, "-m", "pytest", *pytest_args])
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
