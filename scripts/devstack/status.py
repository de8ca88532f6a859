"""The status table: name, pid, address, healthy, memory."""

from __future__ import annotations

import psutil

from scripts.devstack.components import Component
from scripts.devstack.manager import ProcessState


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its children (Postgres forks a backend each)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def table(components: list[Component], states: list[ProcessState]) -> str:
    by_name = {s.name: s for s in states}
    rows = [("NAME", "PID", "ADDRESS", "HEALTHY", "MEMORY")]
    total = 0
    for c in components:
        state = by_name.get(c.name)
        rss = tree_rss(state.pid) if state and state.running else 0
        total += rss
        healthy = ("yes" if state.ready else "done" if state.completed else "no" if state.running else "stopped"
                   ) if state else "-"
        rows.append((c.name, str(state.pid) if state and state.running else "-", c.address, healthy,
                     f"{rss / 2**20:.0f} MiB"))
    rows.append(("total", "", "", "", f"{total / 2**20:.0f} MiB"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip() for row in rows)
