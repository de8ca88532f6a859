"""`make deps` a second time finds every part in the cache (it runs scripts/deps.py for real)."""

from __future__ import annotations

import subprocess
import sys


def test_second_run_finds_every_part_cached() -> None:
    # `make test` ran `make deps` first, so now nothing may be fetched or built again.
    result = subprocess.run([sys.executable, "scripts/deps.py"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("deps: ") and "all parts" not in line]
    assert lines and all(line.endswith("cached") for line in lines), result.stdout
