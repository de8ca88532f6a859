"""Background workers of a service process (consumers, relays, dispatchers) and the
dependency checks that keep its health honest.

    workers = [start_worker(stack, consumer.run, consumer.stop)]
    checks = dependency_checks(pool, config.kafka_bootstrap, workers)

A worker runs until the exit stack unwinds; a crash is logged and turns the health check
NOT_SERVING, so Consul and the gateway stop sending calls to a half-working instance.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Any

import structlog
from confluent_kafka.admin import AdminClient
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from mesh.server import DependencyCheck

WORKER_STOP_TIMEOUT_S = 15.0
log = structlog.get_logger(__name__)


def start_worker(stack: AsyncExitStack, run: Callable[[], Coroutine[Any, Any, None]],
                 stop: Callable[[], Coroutine[Any, Any, None]]) -> asyncio.Task[None]:
    """Run `run()` as a task; when the stack unwinds, `stop()` it and wait (bounded) for it."""
    task = asyncio.create_task(run(), name=getattr(run, "__qualname__", "worker"))
    task.add_done_callback(_report_crash)

    async def finish() -> None:
        await stop()
        await asyncio.wait([task], timeout=WORKER_STOP_TIMEOUT_S)
        if not task.done():
            log.warning("worker did not stop in time; cancelling it", worker=task.get_name())
            task.cancel()

    stack.push_async_callback(finish)
    return task


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("worker crashed", worker=task.get_name(), exc_info=error)


def dependency_checks(pool: AsyncConnectionPool[AsyncConnection[Any]], bootstrap: str,
                      workers: list[asyncio.Task[None]]) -> list[DependencyCheck]:
    """SERVING only while Postgres and Kafka answer and the background workers are alive."""
    admin = AdminClient({"bootstrap.servers": bootstrap})

    async def postgres() -> bool:
        async with pool.connection(timeout=2.0) as conn:
            await conn.execute("SELECT 1")
        return True

    async def kafka() -> bool:
        await asyncio.to_thread(admin.list_topics, timeout=2.0)
        return True

    async def workers_alive() -> bool:
        return not any(task.done() for task in workers)

    return [postgres, kafka, workers_alive]
