"""The status table's memory of a process tree (shared pages counted once, PSS) and the
bench's CPU time of one (children included)."""

from __future__ import annotations

import subprocess
import sys

import psutil

from scripts.devstack.status import tree_cpu_seconds, tree_memory

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
        pss = tree_memory(process.pid) / 2**20
        assert rss > 2 * SHARED_MIB  # what summing resident sizes says
        assert SHARED_MIB < pss < rss - SHARED_MIB / 2  # the shared pages once, not twice
    finally:
        process.communicate("", timeout=30)


def test_a_process_that_is_gone_has_no_memory() -> None:
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert tree_memory(int(process.stdout)) == 0


# A parent that burns no CPU and a child that burns about half a second of it, then waits.
BUSY_CHILD = """
import os, sys, time
if os.fork() == 0:
    began = time.process_time()
    while time.process_time() - began < 0.5:
        pass
    print("child done", flush=True)
    sys.stdin.read()
    os._exit(0)
sys.stdin.read()
"""


def test_the_cpu_time_of_a_process_tree_counts_its_children() -> None:
    process = subprocess.Popen([sys.executable, "-c", BUSY_CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "child done"
        parent_alone = sum(psutil.Process(process.pid).cpu_times()[:2])
        assert tree_cpu_seconds(process.pid) >= parent_alone + 0.4  # the child's 0.5 s, counted in 10 ms ticks
    finally:
        process.communicate("", timeout=30)
    assert tree_cpu_seconds(process.pid) == 0.0  # gone
