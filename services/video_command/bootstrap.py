"""Composition root of video-command: its database, its outbox relay, its servicer.

    VIDMESH_DATABASE_URL=postgresql://video_command:...@127.0.0.1:5432/video python -m services.video_command

The runtime (mesh/runtime.py) owns the rest: migrations, health, Consul, workers, drain.
Readiness is the database alone: with Kafka away, commands still commit and their events
wait in the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mesh import runtime, topology
from mesh.outbox import OutboxRelay
from mesh.runtime import Runtime
from services.video_command.adapters.postgres import PostgresUnitOfWork
from services.video_command.handlers import VideoCommands
from services.video_command.server import service

ENTRY = topology.service("video-command")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class VideoCommand:
    """The parts of a running instance (what tests reach for)."""

    handlers: VideoCommands
    relay: OutboxRelay


async def bootstrap(rt: Runtime) -> VideoCommand:
    """Wire the service into the runtime."""
    pool = await rt.database(MIGRATIONS)
    relay = rt.outbox_relay()
    handlers = VideoCommands(lambda: PostgresUnitOfWork(pool))
    rt.serve(service(handlers))
    return VideoCommand(handlers, relay)


def main() -> None:
    """`python -m services.video_command`."""
    runtime.main(ENTRY, bootstrap)
