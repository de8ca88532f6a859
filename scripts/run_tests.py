"""`make test`: start the stack (or reuse a healthy one), run pytest, stop what was started.

The pytest session itself never stops the stack, so several sessions (or a developer's
`make start`) can share one; only this wrapper, which knows it started it, stops it.
"""

from __future__ import annotations

import subprocess
import sys

from scripts.devstack.stack import Stack


def main(pytest_args: list[str]) -> int:
    stack = Stack()
    print("test: starting the stack (or reusing a running one) ...", flush=True)
    started = stack.ensure_started()
    try:
        return subprocess.call([sys.executable, "-m", "pytest", *pytest_args])
    finally:
        if started:
            print("test: stopping the stack this run started", flush=True)
            stack.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
