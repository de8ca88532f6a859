"""Rebuild and redelivery: replaying the topics gives exactly the tables the live projector built."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from confluent_kafka import Consumer, TopicPartition
from psycopg.rows import dict_row
from vidmesh.video.v1 import video_query_service_pb2 as pb

from mesh.db import open_pool
from services.video_query.adapters.offsets import behind, high_watermarks
from services.video_query.rebuild import TRY_LOCK, RebuildError, rebuild, replay, truncate
from tests.integration.video_query import events as ev
from tests.integration.video_query.conftest import Feed, Publisher, eventually, new_id, running, snapshot

REPO = Path(__file__).resolve().parents[3]


@dataclass
class History:
    """What publish_history sent: how many events, and each video's owner and last version."""

    sent: int = 0
    videos: dict[str, tuple[str, int, bool]] = field(default_factory=dict)  # id -> (owner, version, alive)


def publish_history(publisher: Publisher, feed: Feed, videos: int = 8, seed: int = 1) -> History:
    """A varied life of several videos, users and follows."""
    rng = random.Random(seed)
    owners, fans = [new_id() for _ in range(3)], [new_id() for _ in range(4)]
    done, sent = History(), 0
    for user in (owners[0], fans[0]):  # some register before their videos, the rest after
        publisher.register(feed.users_topic, user, f"user {user[:4]}")
        sent += 1
    for n in range(videos):
        video_id, owner = new_id(), rng.choice(owners)
        history: list[Any] = [ev.created(video_id, owner, title=f"video {n}", at=n)]
        if n % 4:
            history.append(ev.published(video_id, owner, version=len(history) + 1, at=n))
            liking: dict[str, bool] = {}
            for _ in range(rng.randint(1, 6)):
                fan, version = rng.choice(fans), len(history) + 1
                kind = rng.choice(("like", "view", "comment", "update"))
                if kind == "like":
                    liking[fan] = not liking.get(fan, False)
                    count = sum(liking.values())
                    history.append(ev.liked(video_id, owner, version, fan, count) if liking[fan]
                                   else ev.unliked(video_id, owner, version, fan, count))
                elif kind == "view":
                    history.append(ev.viewed(video_id, owner, version, version))
                elif kind == "comment":
                    history.append(ev.commented(video_id, owner, version, new_id(), fan, f"c{version}", version))
                else:
                    history.append(ev.updated(video_id, owner, version, f"video {n} v{version}"))
        if n % 5 == 4:
            history.append(ev.deleted(video_id, owner, len(history) + 1))
        publisher.video(feed.video_topic, *history)
        sent += len(history)
        done.videos[video_id] = (owner, len(history), n % 5 != 4)
    for user in [*owners[1:], *fans[1:]]:
        publisher.register(feed.users_topic, user, f"user {user[:4]}")
        sent += 1
    for fan in fans[:2]:
        publisher.send(feed.users_topic, ev.followed(fan, owners[0]), aggregate_id=owners[0])
        sent += 1
    publisher.send(feed.users_topic, ev.unfollowed(fans[0], owners[0]), aggregate_id=owners[0])
    done.sent = sent + 1
    return done


async def caught_up(kafka: str, group: str, feed: Feed) -> None:
    """The group has committed everything on the topics now (bounded polling)."""
    marks = await asyncio.to_thread(high_watermarks, kafka, feed.topics)
    await eventually(lambda: asyncio.to_thread(behind, kafka, group, marks), lambda left: left == 0, timeout=30)


def rewind(kafka: str, group: str, feed: Feed) -> None:
    """Move the idle group's committed offsets back to the start of every partition."""
    rewinder = Consumer({"bootstrap.servers": kafka, "group.id": group, "enable.auto.commit": False})
    try:
        rewinder.commit(offsets=[TopicPartition(t, p, 0) for t in feed.topics for p in range(3)],
                        asynchronous=False)
    finally:
        rewinder.close()


async def test_rebuild_command_while_running_gives_the_live_tables(
        database: str, kafka: str, feed: Feed, publisher: Publisher) -> None:
    async with running(database, kafka, feed):
        sent = publish_history(publisher, feed).sent
        await caught_up(kafka, feed.group, feed)
        live = await snapshot(database)
        assert len(live["videos"]) >= 8 and live["likes"] and live["comments"] and live["follows"]
        env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'gen' / 'python'}",
               "VIDMESH_DATABASE_URL": database, "VIDMESH_KAFKA_BOOTSTRAP": kafka,
               "VIDMESH_SERVICE_NAME": feed.group, "VIDMESH_TOPIC_PREFIX": feed.prefix}
        command = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.video_query.rebuild", "--timeout", "60", cwd=REPO, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await asyncio.wait_for(command.communicate(), timeout=90)
        assert command.returncode == 0, output.decode()
        done = json.loads(output.decode().strip().splitlines()[-1])
        assert (done["event"], done["applied"], done["dead_lettered"]) == ("rebuild done", sent, 0)
        assert await snapshot(database) == live


async def test_live_events_applied_before_the_replay_do_not_hide_older_ones(
        database: str, kafka: str, feed: Feed, publisher: Publisher) -> None:
    """The rebuild's critical interleaving, made deterministic: after the truncate, the live
    projector applies newer events of existing videos first, and only then does the replay
    bring their older events. The result must equal a quiet rebuild of everything."""
    group = feed.group
    async with running(database, kafka, feed):
        history = publish_history(publisher, feed, seed=2)
        await caught_up(kafka, group, feed)
    pool = await open_pool(database, name="it-video-query-rebuild", max_size=4)
    try:
        await truncate(pool)
        marks = await asyncio.to_thread(high_watermarks, kafka, feed.topics)
        for video_id, (owner, version, _) in history.videos.items():
            publisher.send(feed.video_topic, ev.viewed(video_id, owner, version + 1, 1000),
                           ev.updated(video_id, owner, version + 2, "late title"), aggregate_id=video_id)
        async with running(database, kafka, feed) as live:
            await caught_up(kafka, group, feed)  # the newer events are in; the older ones are not
            assert all(not row["created"] for row in await _rows(database, "videos"))
            await replay(pool, feed.config(database, kafka), marks, timeout_s=60)
            interleaved = await snapshot(database)
            for video_id, owner in _alive(history):
                request = pb.GetVideoRequest(video_id=video_id, viewer_id=owner)
                card = (await live.stub.GetVideo(request, timeout=5)).video
                assert (card.title, card.view_count) == ("late title", 1000)
            await rebuild(pool, feed.config(database, kafka), timeout_s=60)
            assert await snapshot(database) == interleaved
    finally:
        await pool.close()


def _alive(history: History) -> list[tuple[str, str]]:
    return [(video_id, owner) for video_id, (owner, _, alive) in history.videos.items() if alive]


async def _rows(dsn: str, table: str) -> list[dict[str, Any]]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT * FROM {table}")
        return await cur.fetchall()


async def test_redelivered_events_change_nothing(
        database: str, kafka: str, feed: Feed, publisher: Publisher) -> None:
    group = feed.group
    async with running(database, kafka, feed):
        publish_history(publisher, feed, seed=4)
        await caught_up(kafka, group, feed)
    before = await snapshot(database)
    await asyncio.to_thread(rewind, kafka, group, feed)
    async with running(database, kafka, feed) as again:  # the inbox absorbs the redelivery
        await caught_up(kafka, group, feed)
        assert again.parts.projector.counts["applied"] == 0 and again.parts.projector.counts["duplicate"] > 0
    assert await snapshot(database) == before
    async with await psycopg.AsyncConnection.connect(database) as conn:
        await conn.execute("DELETE FROM inbox WHERE consumer_group = %s", (group,))
    await asyncio.to_thread(rewind, kafka, group, feed)
    async with running(database, kafka, feed) as without_inbox:  # versions alone absorb it
        await caught_up(kafka, group, feed)
        assert without_inbox.parts.projector.counts["applied"] > 0
    assert await snapshot(database) == before


async def test_a_second_rebuild_refuses_to_start(database: str, kafka: str, feed: Feed) -> None:
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as holder:
        await holder.execute(TRY_LOCK)  # as if another rebuild were running
        async with running(database, kafka, feed) as instance:
            with pytest.raises(RebuildError, match="another rebuild"):
                await rebuild(instance.parts.pool, feed.config(database, kafka), timeout_s=5)
