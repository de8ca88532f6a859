"""Composition root of notification: its database, outbox relay, event consumer and servicer.

    VIDMESH_DATABASE_URL=postgresql://notification:...@127.0.0.1:5432/notification python -m services.notification

The runtime (mesh/runtime.py) owns the rest: migrations, health, Consul, workers, drain.
Readiness is the database alone: with Kafka away the inboxes still answer and can be marked
read; new notifications wait for the events, and their own events wait in the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mesh import runtime, topology
from mesh.consumer import IdempotentConsumer
from mesh.runtime import Pool, Runtime
from services.notification import server
from services.notification.adapters.postgres import PostgresUnitOfWork
from services.notification.consumer import HANDLERS

ENTRY = topology.service("notification")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class Parts:
    """What a test looks at in a running instance."""

    pool: Pool
    consumer: IdempotentConsumer


async def bootstrap(rt: Runtime) -> Parts:
    """Wire the service into the runtime; returns its pool and consumer."""
    pool = await rt.database(MIGRATIONS)
    rt.outbox_relay()
    consumer = rt.consumer(HANDLERS, pool)
    rt.serve(server.service(lambda: PostgresUnitOfWork(pool)))
    return Parts(pool, consumer)


def main() -> None:
    """`python -m services.notification`."""
    runtime.main(ENTRY, bootstrap)
