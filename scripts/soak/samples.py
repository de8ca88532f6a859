"""What the soak samples, and how it judges the samples.

Every SAMPLE_S seconds: the memory of every process of the stack (its whole process tree) and
the size of every mesh table that retention must keep bounded (outbox, inbox, request_log, in
every service's database and schema). At the end, the error lines of every log.

Memory is counted as `make status` counts it: the proportional set size of the process tree
(scripts/devstack/status.py says why not RSS).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from mesh import topology
from mesh.dbbootstrap import superuser_dsn
from mesh.settings import Settings
from scripts.devstack.manager import ProcessState
from scripts.devstack.status import tree_memory

MESH_TABLES = ("outbox", "inbox", "request_log")
MIB = 2**20
# Flat: the last quarter's median at most this much above the second quarter's (the first
# quarter is warm-up: pools fill, the JVM sizes its heap).
GROWTH_RATIO, GROWTH_FLOOR_MIB = 1.15, 16.0
# Bounded: the last quarter's largest at most this much above the second quarter's.
BOUND_RATIO, BOUND_FLOOR_ROWS = 1.25, 200


def memory(states: dict[str, ProcessState]) -> dict[str, float]:
    """Every running process's memory, by name."""
    return {name: round(tree_memory(state.pid) / MIB, 1)
            for name, state in states.items() if state.running and state.pid}


def table_rows(settings: Settings) -> dict[str, int]:
    """Rows of each mesh table, as `database.schema.table`."""
    rows: dict[str, int] = {}
    for database in {db.name: db for db in topology.databases().values()}.values():
        schemas = sorted({db.schema for db in topology.databases().values() if db.name == database.name})
        with psycopg.connect(superuser_dsn(settings, database.name)) as conn:
            for schema in schemas:
                for table in MESH_TABLES:
                    name = f"{schema}.{table}"
                    if conn.execute("SELECT to_regclass(%s)", (name,)).fetchone() != (None,):
                        count = conn.execute(f"SELECT count(*) FROM {name}").fetchone()  # our own names
                        rows[f"{database.name}.{name}"] = int(count[0]) if count else 0
    return rows


def error_lines(logs: Path) -> dict[str, int]:
    """Log lines at level error (JSON logs of the services), per log file."""
    found: dict[str, int] = {}
    for log in sorted(logs.glob("*.log")):
        count = 0
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"level": "error"' in line.replace('":"', '": "'):
                try:
                    count += json.loads(line).get("level") == "error"
                except ValueError:
                    continue
        if count:
            found[log.stem] = count
    return found


@dataclass(kw_only=True)
class Series:
    """One quantity over the run: (seconds, value) samples."""

    name: str
    points: list[tuple[float, float]] = field(default_factory=list)

    def quarter(self, n: int) -> list[float]:
        """The values of quarter n (0..3) of the run."""
        if not self.points:
            return []
        end = self.points[-1][0]
        return [v for t, v in self.points if n * end / 4 <= t <= (n + 1) * end / 4] or [self.points[-1][1]]

    def flat(self) -> bool:
        """Memory: the last quarter's median within the allowed growth of the second's."""
        early, late = statistics.median(self.quarter(1)), statistics.median(self.quarter(3))
        return late <= early * GROWTH_RATIO + GROWTH_FLOOR_MIB

    def bounded(self) -> bool:
        """A table: the last quarter's largest within the allowed growth of the second's."""
        return max(self.quarter(3)) <= max(self.quarter(1)) * BOUND_RATIO + BOUND_FLOOR_ROWS
