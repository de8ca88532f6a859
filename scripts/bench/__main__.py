"""`make bench`: every benchmark, each printing a table next to its targets.

1. the native stack (a private one: cached deps, warm start, idle memory);
2. RecordView, the hottest write path, with ghz against the running stack's video-command
   (started here if none runs, and stopped again);
3. what tracing costs: RecordView with tracing on and off, in turns, in the same run.
"""

from __future__ import annotations

import subprocess
import sys

from scripts.devstack.stack import Stack


def main() -> int:
    failed = subprocess.call([sys.executable, "-m", "scripts.bench.stack"])
    stack = Stack()
    started = stack.ensure_started()
    try:
        failed |= subprocess.call([sys.executable, "-m", "scripts.bench.record_view"])
        failed |= subprocess.call([sys.executable, "-m", "scripts.bench.tracing"])
    finally:
        if started:
            stack.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
