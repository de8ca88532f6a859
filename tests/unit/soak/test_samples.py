"""The soak's samples and their judgement: memory counted once, flat; tables bounded."""

from __future__ import annotations

import subprocess
import sys

import psutil

from scripts.soak.samples import Series, pss_mib


def series(values: list[float]) -> Series:
    return Series(name="x", points=[(float(n * 30), v) for n, v in enumerate(values)])


def test_memory_that_settles_after_warm_up_is_flat() -> None:
    assert series([60, 90, 100, 101, 100, 102, 101, 103, 102]).flat()


def test_memory_that_keeps_growing_is_not_flat() -> None:
    assert not series([100, 110, 120, 135, 150, 165, 180, 195, 210]).flat()


def test_a_table_that_retention_prunes_is_bounded_and_one_that_grows_is_not() -> None:
    assert series([0, 400, 800, 900, 850, 900, 880, 910, 870]).bounded()
    assert not series([0, 400, 800, 1200, 1600, 2000, 2400, 2800, 3200]).bounded()


SHARED_MIB = 64
# A parent and its child both touch one shared mapping, as Postgres's backends touch its
# shared buffers; then they wait until stdin closes.
SHARING = f"""
import mmap, os, sys
shared = mmap.mmap(-1, {SHARED_MIB} * 2**20)
shared.write(b"x" * len(shared))
if os.fork() == 0:
    sum(shared[i] for i in range(0, len(shared), 4096))
    print("child ready", flush=True)
    sys.stdin.read()
    os._exit(0)
print("parent ready", flush=True)
sys.stdin.read()
"""


def test_memory_shared_by_a_process_tree_counts_once() -> None:
    process = subprocess.Popen([sys.executable, "-c", SHARING], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout is not None
        assert {process.stdout.readline().strip(), process.stdout.readline().strip()} == {"parent ready",
                                                                                          "child ready"}
        root = psutil.Process(process.pid)
        rss = sum(p.memory_info().rss for p in [root, *root.children()]) / 2**20
        pss = pss_mib(process.pid)
        assert rss > 2 * SHARED_MIB  # what summing resident sizes says
        assert SHARED_MIB < pss < rss - SHARED_MIB / 2  # the shared pages once, not twice
    finally:
        process.communicate("", timeout=30)


def test_a_process_that_is_gone_has_no_memory() -> None:
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert pss_mib(int(process.stdout)) == 0.0
