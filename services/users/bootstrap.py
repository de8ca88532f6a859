"""Composition root of users: its database, outbox relay, signing keys, hasher and servicer.

    VIDMESH_DATABASE_URL=postgresql://users:...@127.0.0.1:5432/users python -m services.users

The runtime (mesh/runtime.py) owns the rest: migrations, health, Consul, workers, drain.
Readiness is the database and a signing key (Login cannot answer without one); Kafka is
not part of it: with Kafka away, registrations and follows commit and their events wait in
the outbox.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from mesh import runtime, topology
from mesh.runtime import Runtime
from services.users import keys
from services.users.adapters.postgres import PostgresUnitOfWork
from services.users.handlers import Deps
from services.users.passwords import PasswordHasher
from services.users.server import user_service
from services.users.tokens import TokenIssuer

ENTRY = topology.service("users")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


async def bootstrap(rt: Runtime) -> Deps:
    """Wire the service into the runtime; returns what its handlers use."""
    pool = await rt.database(MIGRATIONS)
    rt.outbox_relay()
    tokens = TokenIssuer(await keys.open_keyring(rt.environ))
    rt.check(tokens.can_sign)
    reads = await rt.read_pool()  # GetUser, BatchGetUsers and Login's lookup: one round trip a statement
    deps = Deps(uow=partial(PostgresUnitOfWork, pool), hasher=await rt.enter(PasswordHasher()), tokens=tokens,
                reads=partial(PostgresUnitOfWork, reads))
    rt.serve(user_service(deps))
    return deps


def main() -> None:
    """`python -m services.users`."""
    runtime.main(ENTRY, bootstrap)
