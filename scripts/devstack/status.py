"""The status table: name, pid, address, health, restarts, memory."""

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


def health(state: ProcessState | None) -> str:
    """yes / no (running, probe failing) / down (exited, being restarted) / done (a one-shot)."""
    if state is None:
        return "-"
    if state.completed:
        return "done"
    if not state.running:
        return "down"
    return "yes" if state.ready else "no"


def table(components: list[Component], states: list[ProcessState]) -> str:
    by_name = {s.name: s for s in states}
    rows = [("NAME", "PID", "ADDRESS", "HEALTHY", "RESTARTS", "MEMORY")]
    total = 0
    for c in components:
        state = by_name.get(c.name)
        running = state is not None and state.running
        rss = tree_rss(state.pid) if state is not None and running else 0
        total += rss
        rows.append((c.name, str(state.pid) if state is not None and running else "-", c.address, health(state),
                     str(state.restarts) if state is not None else "-", f"{rss / 2**20:.0f} MiB"))
    rows.append(("total", "", "", "", "", f"{total / 2**20:.0f} MiB"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)
