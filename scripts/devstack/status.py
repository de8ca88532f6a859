"""The status table: name, pid, address, health, restarts, memory."""

from __future__ import annotations

import psutil

from scripts.devstack.components import Component
from scripts.devstack.manager import ProcessState


def _tree(pid: int) -> list[psutil.Process]:
    """A process and all its children (Postgres forks a backend each); [] if it is gone."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_memory(pid: int) -> int:
    """Memory of a process and all its children, in bytes.

    The proportional set size (PSS), not the resident size: a page several processes share
    counts once, divided among them. Summed RSS counts Postgres's shared buffers once per
    backend that has touched them, so it climbs as backends touch more of the cache with no
    memory used (a 30-minute soak saw Postgres "grow" from 586 to 1,198 MiB; its PSS was 166).
    """
    total = 0
    for process in _tree(pid):
        try:
            total += process.memory_full_info().pss
        except psutil.NoSuchProcess:  # a child that ended meanwhile (a Postgres backend, say)
            continue
    return total


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process and its children have used so far, children that
    ended and were waited for included, in seconds."""
    total = 0.0
    for process in _tree(pid):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
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
    rows = [("NAME", "PID", "ADDRESS", "HEALTHY", "RESTARTS", "MEMORY (PSS)")]
    total = 0
    for c in components:
        state = by_name.get(c.name)
        running = state is not None and state.running
        memory = tree_memory(state.pid) if state is not None and running else 0
        total += memory
        rows.append((c.name, str(state.pid) if state is not None and running else "-", c.address, health(state),
                     str(state.restarts) if state is not None else "-", f"{memory / 2**20:.0f} MiB"))
    rows.append(("total", "", "", "", "", f"{total / 2**20:.0f} MiB"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)
