"""The event pipeline, sustained: writes -> outbox -> relay -> Kafka -> projector -> read model.

ghz sends a fixed number of RecordView calls (each one event, a new view total) over many
videos as fast as video-command takes them; the clock runs from the first write until the
read model shows every one of them. Nothing lost, nothing twice: the command side's view
counts must add up to the successful calls, and the read model's to the command side's.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import grpc.aio
import psycopg

from mesh.dbbootstrap import superuser_dsn
from mesh.settings import Settings
from scripts.bench import lag, load, stubs
from scripts.bench.processes import address

RECORD_VIEW = "vidmesh.video.v1.VideoCommandService.RecordView"
VISIBLE_TIMEOUT_S = 180.0
COUNTS = ("SELECT (SELECT coalesce(sum(view_count), 0) FROM video_write.videos WHERE id = ANY(%(ids)s::uuid[])),"
          " (SELECT coalesce(sum(view_count), 0) FROM video_read.videos WHERE video_id = ANY(%(ids)s::uuid[]))")


@dataclass(frozen=True)
class PipelineRun:
    """What one sustained run measured."""

    writes: load.Load  # the RecordView calls
    seconds_to_visible: float  # from the first write until the read model showed them all
    written: int  # the command side's view counts, summed
    projected: int  # the read model's, summed

    @property
    def events_per_s(self) -> float:
        """Events through the whole pipeline per second."""
        return self.projected / self.seconds_to_visible if self.seconds_to_visible else 0.0

    @property
    def nothing_lost(self) -> bool:
        """Every successful write counted once on both sides."""
        return self.writes.ok == self.written == self.projected and not self.writes.failed


async def _videos(settings: Settings, count: int) -> list[str]:
    async with grpc.aio.insecure_channel(address(settings, "video_command")) as channel:
        command = stubs.Command(channel)
        return [await lag.published_video(command) for _ in range(count)]


def _counts(dsn: str, video_ids: list[str]) -> tuple[int, int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(COUNTS, {"ids": video_ids}).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def measure(tools: load.Tools, settings: Settings, *, events: int, videos: int, concurrency: int) -> PipelineRun:
    """`events` RecordView calls over `videos` videos, `concurrency` in flight."""
    video_ids = asyncio.run(_videos(settings, videos))
    dsn = superuser_dsn(settings, "video")
    data = [{"request_id": "{{.UUID}}", "video_id": video_id} for video_id in video_ids]
    began = time.monotonic()
    writes = load.ghz(tools, address(settings, "video_command"), RECORD_VIEW, data, concurrency=concurrency,
                      total=events, connections=4)
    deadline = began + VISIBLE_TIMEOUT_S
    written, projected = _counts(dsn, video_ids)
    while projected < written and time.monotonic() < deadline:
        time.sleep(0.05)
        written, projected = _counts(dsn, video_ids)
    return PipelineRun(writes, time.monotonic() - began, written, projected)
