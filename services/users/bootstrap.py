"""Wires one users process: config, logs, migrations, signing keys, pool, outbox relay, server.

    VIDMESH_DATABASE_URL=postgresql://users:...@127.0.0.1:5432/users python -m services.users

`running()` is the whole service as an async context, which the integration tests enter on
port 0; `main()` adds the environment and waits for SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import structlog

from mesh import config as mesh_config
from mesh import log as mesh_log
from mesh import migrations
from mesh.db import open_pool
from mesh.kafka import EVENT_TOPICS, ensure_topics
from mesh.outbox import OutboxRelay
from mesh.registry import ConsulRegistry
from mesh.server import Server
from services.users import keys
from services.users.adapters.outbox import TOPIC
from services.users.adapters.postgres import Pool, PostgresUnitOfWork
from services.users.handlers import Deps
from services.users.passwords import PasswordHasher
from services.users.server import user_service
from services.users.tokens import TokenIssuer

SERVICE_NAME = "users"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
RELAY_STOP_S = 3.0
_log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Running:
    """A started users instance: its server (and port), relay and handler dependencies."""

    server: Server
    relay: OutboxRelay
    deps: Deps


@contextlib.asynccontextmanager
async def running(config: mesh_config.ServiceConfig, keys_folder: Path,
                  registry: ConsulRegistry | None = None) -> AsyncIterator[Running]:
    """Migrate, make sure a signing key exists, then serve until the block ends."""
    dsn = config.require_database_url()
    await asyncio.to_thread(migrations.apply, dsn, MIGRATIONS)
    if kid := await asyncio.to_thread(keys.ensure_key, keys_folder):
        _log.info("signing key created", kid=kid, folder=str(keys_folder))
    async with AsyncExitStack() as stack:
        pool = await open_pool(dsn, name=config.service_name)
        stack.push_async_callback(pool.close)
        hasher = PasswordHasher()
        stack.callback(hasher.close)
        relay = OutboxRelay(dsn, config.kafka_bootstrap)
        stack.push_async_callback(_stop_relay, relay, _start_relay(relay, config.kafka_bootstrap))
        keyring = keys.KeyRing(keys_folder, sign_after_s=keys.sign_after_s())
        deps = Deps(uow=partial(PostgresUnitOfWork, pool), hasher=hasher, tokens=TokenIssuer(keyring))
        checks = [_database_check(pool), _signing_key_check(deps.tokens)]
        server = await stack.enter_async_context(Server(config, [user_service(deps)], checks=checks, registry=registry))
        yield Running(server, relay, deps)


def _start_relay(relay: OutboxRelay, bootstrap: str) -> asyncio.Task[None]:
    # Registering and logging in do not need Kafka (events wait in the outbox), so the
    # topic is ensured in the background and the service starts while Kafka is down.
    async def relay_when_topic_exists() -> None:
        delay = 0.5
        while True:
            try:
                await asyncio.to_thread(ensure_topics, bootstrap, {TOPIC: EVENT_TOPICS[TOPIC]})
                break
            except Exception as error:
                _log.warning("cannot ensure the events topic; events wait in the outbox",
                             error=str(error), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        await relay.run()

    return asyncio.create_task(relay_when_topic_exists(), name="outbox-relay")


async def _stop_relay(relay: OutboxRelay, task: asyncio.Task[None]) -> None:
    """Ask the relay to stop; cancel it if it does not within RELAY_STOP_S (unsent rows stay
    in the outbox for the next relay)."""
    await relay.stop()
    done, _ = await asyncio.wait({task}, timeout=RELAY_STOP_S)
    if not done:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _database_check(pool: Pool) -> Callable[[], Awaitable[bool]]:
    async def postgres() -> bool:
        async with pool.connection(timeout=1.0) as conn:
            await conn.execute("SELECT 1")
        return True

    return postgres


def _signing_key_check(tokens: TokenIssuer) -> Callable[[], Awaitable[bool]]:
    # Kafka is deliberately not a readiness dependency: the outbox keeps the service
    # correct while it is down. An instance that cannot sign tokens is not ready.
    async def signing_key() -> bool:
        tokens.keyring.signing_key()
        return True

    return signing_key


async def serve() -> None:
    """Run one instance from the environment until SIGTERM/SIGINT."""
    config = mesh_config.load(service_name=SERVICE_NAME, required=["VIDMESH_DATABASE_URL"])
    mesh_log.configure(config.service_name, config.log_level)
    host, port = config.consul_host_port
    async with running(config, keys.keys_dir(), ConsulRegistry(host, port)) as instance:
        await instance.server.wait_for_signal()


def main() -> None:
    """`python -m services.users`."""
    try:
        asyncio.run(serve())
    except mesh_config.ConfigError as error:
        sys.exit(f"users: {error}")
