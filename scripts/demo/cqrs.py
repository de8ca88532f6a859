"""Step 3, CQRS: writes go to video-command, reads come from video-query's projection."""

from __future__ import annotations

import statistics
import time

import grpc

from scripts.demo import show
from scripts.demo.calls import StepFailed, expect
from scripts.demo.stubs import query, query_grpc
from scripts.demo.world import Demo

WHY = """video-command owns the writes (schema video_write) and answers with the video's new
version; the event goes out through its outbox in the same transaction. video-query serves
reads from its own tables (schema video_read), which a projector builds from those events, so
reads trail writes a little: here is by how much. A client that must see its own write passes
the version as min_version and the query waits for it (bounded)."""
WRITES = 5
LAG_LIMIT_S = 5.0


def run(demo: Demo) -> str:
    """Views recorded through the gateway, each read back from video-query; lag in ms."""
    show.heading(3, "CQRS", "a write, then the read model catching up")
    show.explain(WHY)
    _, bob = demo.users
    address = f"{demo.settings.instance_address('video_query', 0)}:{demo.settings.instance_ports('video_query')[0]}"
    with grpc.insecure_channel(address) as channel:
        reader = query_grpc.VideoQueryServiceStub(channel)
        lags, version = [], 0
        for n in range(WRITES):
            if n == 0:
                show.say("write: Bob watches the video (video-command answers with the new version)")
            written = demo.rest.ok("POST", f"/api/web/v1/videos/{demo.video_id}/views", {}, bob, quiet=n > 0)
            version = int(written["version"])
            lags.append(projection_lag(reader, demo.video_id, version))
    show.say(f"read: video-query reached each of {WRITES} writes after (ms)")
    show.result("  ".join(f"{lag * 1000:.0f}" for lag in lags))
    median_ms = statistics.median(lags) * 1000
    expect(True, f"median projection lag {median_ms:.0f} ms (write answered -> read model shows it)")
    show.say("the same read with grpcurl, straight at a video-query instance")
    card = demo.grpcurl.call(address, "vidmesh.video.v1.VideoQueryService/GetVideo",
                             {"video_id": demo.video_id, "min_version": version})["video"]
    expect(int(card["version"]) >= version, f"video-query shows version {card['version']} >= {version}")
    show.say("read your own write through the gateway: min_version makes the query wait for it")
    page = demo.rest.ok("GET", f"/api/web/v1/videos/{demo.video_id}", who=bob, params={"minVersion": version})
    expect(not page["stale"] and int(page["video"]["version"]) >= version, "the page is not stale")
    return f"{WRITES} writes read back from the projection, median lag {median_ms:.0f} ms"


def projection_lag(reader: query_grpc.VideoQueryServiceStub, video_id: str, version: int) -> float:
    """Seconds from now (the write's answer) until video-query shows `version`."""
    began = time.monotonic()
    while time.monotonic() - began < LAG_LIMIT_S:
        found = reader.GetVideo(query.GetVideoRequest(video_id=video_id), timeout=2)
        if found.video.version >= version:
            return time.monotonic() - began
        time.sleep(0.002)  # polling interval of a bounded wait; small, since it is what we measure
    raise StepFailed(f"video-query did not reach version {version} within {LAG_LIMIT_S:.0f} s")
