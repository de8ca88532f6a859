"""Commit -> visible: how long after video-command answers a write the read model shows it.

One probe: RecordView on video-command (the write is committed when it answers), then
GetVideo with `min_version` set to the version it returned, on video-query, which waits
(bounded) for the projection. The lag is the time from the command's answer to the read's
answer, as a client reading its own write sees it: outbox relay, Kafka, the projector's
transaction, the version notice and the read itself. A read that comes back `stale` (the
projection missed the wait) is counted apart, never as a fast sample, and so is a probe whose
write or read missed its deadline or came back CANCELLED (an overloaded service): the run goes
on without it, and the row names the status.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TypeAlias

import grpc
import grpc.aio

from mesh.settings import Settings
from scripts.bench import load, stubs
from scripts.bench.processes import address, channel

CommandStub: TypeAlias = "stubs.cmd_grpc.VideoCommandServiceAsyncStub"  # the .pyi's name for a stub on an aio channel
QueryStub: TypeAlias = "stubs.query_grpc.VideoQueryServiceAsyncStub"
DEADLINE_S = 10.0
RECORD_VIEW = "vidmesh.video.v1.VideoCommandService.RecordView"
WRITE_LOAD_VIDEOS = 50  # the write load's views go round these, so no one row is the bottleneck
WARM_UP_S = 2.0
PROBE_VIDEOS = 20
# What a probe gets from an overloaded service instead of an answer: its deadline passed, or
# the call came back CANCELLED (seen under the write load). Anything else is a bug: raised.
UNANSWERED = frozenset({grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED})


@dataclass(frozen=True)
class LagRun:
    """The lags of one series of probes, in milliseconds, the reads that came back stale, and
    the probes that got no answer, counted by the status they got instead."""

    lags_ms: list[float]
    stale: int
    unanswered: Counter[str] = field(default_factory=Counter)


async def published_video(command: CommandStub) -> str:
    """A new published video, created through video-command."""
    owner = str(uuid.uuid4())
    created = await command.CreateVideo(stubs.cmd.CreateVideoRequest(
        request_id=str(uuid.uuid4()), actor_id=owner, title="bench", duration_seconds=60), timeout=DEADLINE_S)
    await command.PublishVideo(stubs.cmd.PublishVideoRequest(
        request_id=str(uuid.uuid4()), actor_id=owner, video_id=created.video_id), timeout=DEADLINE_S)
    return str(created.video_id)


async def probe(command: CommandStub, query: QueryStub, video_id: str) -> float | None:
    """One write then the read of it: the lag in ms, or None when the read came back stale."""
    written = await command.RecordView(stubs.cmd.RecordViewRequest(request_id=str(uuid.uuid4()), video_id=video_id),
                                       timeout=DEADLINE_S)
    answered = time.perf_counter()
    read = await query.GetVideo(stubs.query.GetVideoRequest(video_id=video_id, min_version=written.version),
                                timeout=DEADLINE_S)
    lag_ms = (time.perf_counter() - answered) * 1000
    return None if read.stale else lag_ms


async def measure(settings: Settings, probes: int, interval_s: float) -> LagRun:
    """`probes` probes, one every `interval_s` (each on its own video, so no probe waits for
    another's row)."""
    async with channel(settings, "video_command") as c, channel(settings, "video_query") as q:
        command, query = stubs.Command(c), stubs.Query(q)
        videos = [await published_video(command) for _ in range(min(probes, PROBE_VIDEOS))]
        await _answered(probe(command, query, videos[0]))  # connections and the read model warm
        lags: list[float] = []
        stale, unanswered = 0, Counter[str]()
        for n in range(probes):
            lag = await _answered(probe(command, query, videos[n % len(videos)]))
            if isinstance(lag, grpc.StatusCode):
                unanswered[lag.name] += 1
            elif lag is None:
                stale += 1
            else:
                lags.append(lag)
            await asyncio.sleep(interval_s)
        return LagRun(lags, stale, unanswered)


async def _answered(probing: Coroutine[None, None, float | None]) -> float | grpc.StatusCode | None:
    """The probe's outcome, or the status of a call of it that got no answer (UNANSWERED)."""
    try:
        return await probing
    except grpc.aio.AioRpcError as error:
        if error.code() not in UNANSWERED:
            raise
        return error.code()


def under_write_load(tools: load.Tools, settings: Settings, *, rate: float, probes: int,
                     interval_s: float) -> tuple[LagRun, load.Load]:
    """The probes while ghz writes `rate` RecordViews a second (open loop) on other videos;
    returns the lags and what the write load achieved."""
    command_address = address(settings, "video_command")
    videos = asyncio.run(_published(settings, WRITE_LOAD_VIDEOS))
    data = [{"request_id": "{{.UUID}}", "video_id": video_id} for video_id in videos]
    # Long enough to cover the probes (each takes interval_s plus its own lag) after a warm-up.
    seconds = WARM_UP_S + probes * (interval_s + 0.1) + 2
    writes: list[load.Load] = []
    writer = threading.Thread(target=lambda: writes.append(load.ghz(
        tools, command_address, RECORD_VIEW, data, concurrency=64, connections=4, rate=rate, duration_s=seconds)))
    writer.start()
    time.sleep(WARM_UP_S)
    try:
        run = asyncio.run(measure(settings, probes, interval_s))
    finally:
        writer.join()
    return run, writes[0]


async def _published(settings: Settings, count: int) -> list[str]:
    async with channel(settings, "video_command") as command_channel:
        command = stubs.Command(command_channel)
        return [await published_video(command) for _ in range(count)]
