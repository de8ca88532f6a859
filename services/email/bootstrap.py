"""Composition root of email: its database, event consumer, dispatcher and servicer.

    VIDMESH_DATABASE_URL=postgresql://email:...@127.0.0.1:5432/email python -m services.email
    # VIDMESH_SMTP_ADDR=127.0.0.1:1025 and the other mail settings: services/email/config.py

The runtime (mesh/runtime.py) owns the rest: migrations, health, Consul, workers, drain.
Readiness is the database alone: with Kafka away the API still answers and events wait on
the topics; with the mail server away the dispatcher backs off and mail waits in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mesh import runtime, topology
from mesh.consumer import IdempotentConsumer
from mesh.runtime import Pool, Runtime
from services.email import config, server
from services.email.adapters.postgres import PostgresUnitOfWork
from services.email.adapters.smtp import SmtpTransport
from services.email.adapters.wakeup import ListenWakeup
from services.email.consumer import HANDLERS
from services.email.dispatcher import Dispatcher

ENTRY = topology.service("email")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class Parts:
    """What a test looks at in a running instance."""

    pool: Pool
    consumer: IdempotentConsumer
    dispatcher: Dispatcher


async def bootstrap(rt: Runtime) -> Parts:
    """Wire the service into the runtime; returns its pool, consumer and dispatcher."""
    mail = config.load(rt.environ)
    pool = await rt.database(MIGRATIONS)
    consumer = rt.consumer(HANDLERS, pool)
    transport = SmtpTransport(mail.smtp_host, mail.smtp_port, mail.sender, mail.timeout_s)
    dispatcher = Dispatcher(lambda: PostgresUnitOfWork(pool), transport, ListenWakeup(rt.config.require_database_url()))
    rt.worker("dispatcher", dispatcher.run, dispatcher.stop)
    rt.serve(server.service(lambda: PostgresUnitOfWork(pool)))
    return Parts(pool, consumer, dispatcher)


def main() -> None:
    """`python -m services.email`."""
    runtime.main(ENTRY, bootstrap)
