"""`make bench`: every benchmark, each printing a table next to its targets.

1. the native stack (a private one: cached deps, warm start, idle memory);
2. the price list of every pattern (mTLS and tracing on vs off among them), measured side by
   side on another private stack (scripts/bench/price_list.py), written to .run/bench/.

Neither touches a stack that is already running. `python -m scripts.bench.record_view`
drives RecordView against a running stack on its own, and `python -m scripts.bench.tracing`
prices tracing there too: RecordView with tracing on and off, in turns, in the same run.
"""

from __future__ import annotations

import subprocess
import sys


def main() -> int:
    failed = subprocess.call([sys.executable, "-m", "scripts.bench.stack"])
    failed |= subprocess.call([sys.executable, "-m", "scripts.bench.price_list", *sys.argv[1:]])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
