"""Composition root of video-command: its database, its outbox relay, its servicer.

    VIDMESH_DATABASE_URL=postgresql://video_command:...@127.0.0.1:5432/video python -m services.video_command

The runtime (mesh/runtime.py) owns the rest: migrations, health, Consul, workers, drain.
Readiness is the database alone: with Kafka away, commands still commit and their events
wait in the outbox.
"""

from __future__ import annotations

from pathlib import Path

from mesh import runtime, topology
from mesh.runtime import Runtime
from services.video_command.adapters.postgres import PostgresUnitOfWork
from services.video_command.handlers import VideoCommands
from services.video_command.server import service

ENTRY = topology.service("video-command")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


async def bootstrap(rt: Runtime) -> VideoCommands:
    """Wire the service into the runtime; returns its command handlers."""
    pool = await rt.database(MIGRATIONS)
    rt.outbox_relay()
    handlers = VideoCommands(lambda: PostgresUnitOfWork(pool))
    rt.serve(service(handlers))
    return handlers


def main() -> None:
    """`python -m services.video_command`."""
    runtime.main(ENTRY, bootstrap)
