"""The event pipeline, sustained: writes -> outbox -> relay -> Kafka -> projector -> read model.

ghz sends a fixed number of RecordView calls (each one event, a new view total) over many
videos as fast as video-command takes them; the clock runs from the first write until the
read model shows every one of them. Nothing lost, nothing twice: the command side's view
counts must add up to the successful calls, and the read model's to the command side's.
The CPU time every process of the stack used meanwhile, per event, is the pattern's price in
CPU: the write, the relay, Kafka, every consumer group and Postgres (the load generator, not
part of the stack, is left out).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from mesh.dbbootstrap import superuser_dsn
from mesh.settings import Settings
from scripts.bench import lag, load, stubs
from scripts.bench.processes import address, channel

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
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds used meanwhile, by process of the stack

    @property
    def events_per_s(self) -> float:
        """Events through the whole pipeline per second."""
        return self.projected / self.seconds_to_visible if self.seconds_to_visible else 0.0

    def cpu_ms_per_event(self) -> dict[str, float]:
        """CPU milliseconds per event by service (instances summed: `video-query-1` counts
        as `video-query`), most first."""
        by_service: dict[str, float] = {}
        for process, seconds in self.cpu_s.items():
            service = process.rsplit("-", 1)[0] if process.rsplit("-", 1)[-1].isdigit() else process
            by_service[service] = by_service.get(service, 0.0) + seconds * 1000 / max(1, self.projected)
        return dict(sorted(by_service.items(), key=lambda item: -item[1]))

    @property
    def nothing_lost(self) -> bool:
        """Every successful write counted once on both sides."""
        return self.writes.ok == self.written == self.projected and not self.writes.failed


async def _videos(settings: Settings, count: int) -> list[str]:
    async with channel(settings, "video_command") as command_channel:
        command = stubs.Command(command_channel)
        return [await lag.published_video(command) for _ in range(count)]


def _counts(dsn: str, video_ids: list[str]) -> tuple[int, int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(COUNTS, {"ids": video_ids}).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def measure(tools: load.Tools, settings: Settings, cpu_seconds: Callable[[], dict[str, float]], *, events: int,
            videos: int, concurrency: int) -> PipelineRun:
    """`events` RecordView calls over `videos` videos, `concurrency` in flight; `cpu_seconds`
    reads the CPU time each process of the stack has used so far."""
    video_ids = asyncio.run(_videos(settings, videos))
    dsn = superuser_dsn(settings, "video")
    data = [{"request_id": "{{.UUID}}", "video_id": video_id} for video_id in video_ids]
    cpu_before = cpu_seconds()
    began = time.monotonic()
    writes = load.ghz(tools, address(settings, "video_command"), RECORD_VIEW, data, concurrency=concurrency,
                      total=events, connections=4)
    deadline = began + VISIBLE_TIMEOUT_S
    written, projected = _counts(dsn, video_ids)
    while projected < written and time.monotonic() < deadline:
        time.sleep(0.05)
        written, projected = _counts(dsn, video_ids)
    seconds = time.monotonic() - began
    used = {name: spent - cpu_before[name] for name, spent in cpu_seconds().items() if name in cpu_before}
    return PipelineRun(writes, seconds, written, projected, used)
