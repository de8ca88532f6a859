"""`python -m services.video_query.rebuild`: rebuild the read model by replaying the topics.

What it does, in order:
1. takes a Postgres advisory lock, so a second rebuild refuses to start while one runs;
2. forgets the rebuild's consumer group `<VIDMESH_SERVICE_NAME>-rebuild`, video-query-rebuild
   by default (its Kafka offsets and its inbox rows), so the replay starts from the beginning
   of the topics;
3. TRUNCATEs every `video_read` table in one transaction (the command applies the
   migrations first, so it also works on an empty database);
4. reads the topics' high watermarks (after the truncate, so they cover every event that
   was applied before it);
5. replays the topics video-query consumes (mesh/topology.py, after VIDMESH_TOPIC_PREFIX)
   with that group until its committed offsets reach the watermarks, then stops and forgets
   the group again.

It is safe to run while instances run, and they keep serving. Their projectors go on
applying new events into the truncated tables while the replay applies the old ones; both
follow the same rules, and those rules (domain.py) give the same rows whatever the order
and however many times an event is applied: each value is set by the newest event that
carries it. So when the replay has reached the watermarks, the tables are what a projector
that had read everything in order would hold. Until then, reads see an incomplete read
model (as after a first start): a rebuild is a repair, run it when few people look. If it
fails (exit code 1: Kafka unreachable, --timeout reached), run it again: it starts over.

A faithful replay needs topics that keep every event (retention.ms=-1 or compaction);
records Kafka has already deleted cannot be replayed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from confluent_kafka import TopicPartition
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from mesh import config as mesh_config
from mesh import log as mesh_log
from mesh import migrations
from mesh.config import ServiceConfig
from mesh.db import open_pool
from services.video_query.adapters.offsets import GroupBusy, behind, delete_group, high_watermarks
from services.video_query.bootstrap import ENTRY, MIGRATIONS
from services.video_query.consumer import projector

log = structlog.get_logger(__name__)

Pool = AsyncConnectionPool[AsyncConnection[Any]]
READ_TABLES = ("videos", "likes", "comments", "users", "follows")
TRY_LOCK = "SELECT pg_try_advisory_lock(hashtext('video_read.rebuild'))"
UNLOCK = "SELECT pg_advisory_unlock(hashtext('video_read.rebuild'))"
TRUNCATE = f"TRUNCATE {', '.join(READ_TABLES)}"
FORGET_INBOX = "DELETE FROM inbox WHERE consumer_group = %s"


class RebuildError(RuntimeError):
    """The rebuild could not start or did not finish; the message says why."""


@dataclass(frozen=True)
class RebuildReport:
    """What a rebuild did."""

    group: str
    applied: int
    duplicates: int
    dead_lettered: int
    seconds: float


def rebuild_group(config: ServiceConfig) -> str:
    """The consumer group the replay uses: the projector's group (the service's name) with `-rebuild`."""
    return f"{config.service_name}-rebuild"


def replayed_topics(config: ServiceConfig) -> list[str]:
    """The topics the projector consumes, as this configuration names them."""
    return [config.topic_prefix + topic for topic in ENTRY.consumes]


async def rebuild(pool: Pool, config: ServiceConfig, *, timeout_s: float = 600.0,
                  poll_s: float = 0.5) -> RebuildReport:
    """Truncate the read tables and replay the topics into them; see the module docstring."""
    started, group, bootstrap = time.monotonic(), rebuild_group(config), config.kafka_bootstrap
    async with _exclusive(pool):
        await _forget(pool, bootstrap, group)
        await truncate(pool)
        marks = await asyncio.to_thread(high_watermarks, bootstrap, replayed_topics(config))
        counts = await replay(pool, config, marks, timeout_s=timeout_s, poll_s=poll_s)
        await _forget(pool, bootstrap, group)
    return RebuildReport(group, counts["applied"], counts["duplicate"], counts["dead_lettered"],
                         round(time.monotonic() - started, 3))


async def truncate(pool: Pool) -> None:
    """Empty every read table, in one transaction."""
    async with pool.connection() as conn:
        await conn.execute(TRUNCATE)


async def replay(pool: Pool, config: ServiceConfig, marks: dict[TopicPartition, int], *,
                 timeout_s: float = 600.0, poll_s: float = 0.5) -> dict[str, int]:
    """Project the topics with the rebuild group until it has committed up to `marks`; its counts."""
    group, bootstrap = rebuild_group(config), config.kafka_bootstrap
    consumer = projector(pool, bootstrap, group, replayed_topics(config))
    task = asyncio.create_task(consumer.run(), name="rebuild-projector")
    try:
        await _until_caught_up(bootstrap, group, marks, task, time.monotonic() + timeout_s, poll_s)
    finally:
        await consumer.stop()
        await task
    return consumer.counts


@asynccontextmanager
async def _exclusive(pool: Pool) -> AsyncIterator[None]:
    async with pool.connection() as conn:
        if not (await (await conn.execute(TRY_LOCK)).fetchone() or (False,))[0]:
            raise RebuildError("another rebuild of video_read is running")
        await conn.commit()  # the lock is the session's; an open transaction would be cut off when idle
        try:
            yield
        finally:
            await conn.execute(UNLOCK)


async def _forget(pool: Pool, bootstrap: str, group: str) -> None:
    try:
        await asyncio.to_thread(delete_group, bootstrap, group)
    except GroupBusy as exc:
        raise RebuildError(str(exc)) from exc
    async with pool.connection() as conn:
        await conn.execute(FORGET_INBOX, (group,))


async def _until_caught_up(bootstrap: str, group: str, marks: dict[TopicPartition, int],
                           task: asyncio.Task[None], deadline: float, poll_s: float) -> None:
    while (left := await asyncio.to_thread(behind, bootstrap, group, marks)) > 0:
        if task.done():
            raise RebuildError(f"the replay stopped with {left} records to go: {task.exception()!r}")
        if time.monotonic() > deadline:
            raise RebuildError(f"the replay did not catch up in time: {left} records to go")
        log.info("rebuild progress", records_to_go=left)
        await asyncio.sleep(poll_s)  # progress is read from Kafka: bounded polling, no notice to wait on


async def _main(timeout_s: float) -> RebuildReport:
    config = mesh_config.load(service_name=ENTRY.name, required=["VIDMESH_DATABASE_URL"])
    mesh_log.configure(rebuild_group(config), config.log_level)
    dsn = config.require_database_url()
    await asyncio.to_thread(migrations.apply, dsn, MIGRATIONS)
    pool = await open_pool(dsn, name=rebuild_group(config))
    try:
        return await rebuild(pool, config, timeout_s=timeout_s)
    finally:
        await pool.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run a rebuild; exit 0 when the read model has caught up, 1 when it could not."""
    parser = argparse.ArgumentParser(prog="python -m services.video_query.rebuild", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to catch up (default 600)")
    args = parser.parse_args(argv)
    try:
        report = asyncio.run(_main(args.timeout))
    except RebuildError as exc:
        log.error("rebuild failed", error=str(exc))
        return 1
    log.info("rebuild done", **vars(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
