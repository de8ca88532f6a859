"""RecordView under load: ghz drives one published video for a fixed time at a fixed concurrency.

Starts nothing: point it at a running video-command instance.

    python -m scripts.bench.record_view [--address HOST:PORT] [--duration 10s] [--concurrency 32] [--videos 1]

The address defaults to $VIDMESH_BENCH_ADDRESS, else the first video-command port of the
settings (127.0.0.1:7020). The script creates and publishes fresh videos through the
service itself (one by default: the worst case, every view waits for the same row), runs
ghz against RecordView with a new request_id per call (anonymous viewer, so no request is
a replay), prints rps and latency percentiles, then checks that the view counts add up to
the successful calls (nothing lost, nothing twice). Calls still in flight when ghz stops
are cut off by ghz itself ("closed network connection"); they are listed apart from
errors, and each may or may not have been counted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import uuid
from typing import Any

from mesh.identity_files import IdentityFolder
from mesh.settings import ROOT, load
from mesh.xds.bootstrap import blocking_channel_to, use_identity
from scripts.toolchain import Toolchain

# The generated stubs (`make protos`), where pytest finds them too.
sys.path.insert(0, str(ROOT / "gen" / "python"))
from vidmesh.video.v1 import video_command_service_pb2 as pb
from vidmesh.video.v1 import video_command_service_pb2_grpc as pb_grpc

METHOD = "vidmesh.video.v1.VideoCommandService.RecordView"
PROTOSET = ROOT / "gen" / "vidmesh.binpb"
DEADLINE_S = 10.0
CUT_OFF = "closed network connection"


def published_video(stub: Any) -> str:
    """A new published video to view, created through the service under test."""
    owner = str(uuid.uuid4())
    created = stub.CreateVideo(pb.CreateVideoRequest(request_id=str(uuid.uuid4()), actor_id=owner,
                                                     title="bench", duration_seconds=60), timeout=DEADLINE_S)
    stub.PublishVideo(pb.PublishVideoRequest(request_id=str(uuid.uuid4()), actor_id=owner,
                                             video_id=created.video_id), timeout=DEADLINE_S)
    return str(created.video_id)


def run_ghz(address: str, video_ids: list[str], duration: str, concurrency: int, connections: int) -> dict[str, Any]:
    """ghz's JSON report for RecordView calls, each with a fresh request_id; ghz goes round
    the videos one call after the other."""
    ghz = Toolchain(load().cache_dir).go_binary("ghz")
    if not ghz.exists():
        sys.exit(f"ghz not found at {ghz}: run `make deps`")
    if not PROTOSET.exists():
        sys.exit(f"{PROTOSET} not found: run `make protos`")
    data = json.dumps([{"request_id": "{{.UUID}}", "video_id": video_id} for video_id in video_ids])
    operator = load().operator_certs  # mutual TLS as the operator; --skipTLS: ghz cannot check a SPIFFE id
    tls = ["--skipTLS", f"--cert={operator / 'cert.pem'}", f"--key={operator / 'key.pem'}"]
    command = [str(ghz), *tls, f"--protoset={PROTOSET}", f"--call={METHOD}", f"--data={data}",
               f"--duration={duration}", f"--concurrency={concurrency}", f"--connections={connections}",
               "--timeout=10s", "--format=json", address]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if not done.stdout.strip():
        sys.exit(f"ghz failed ({done.returncode}): {done.stderr}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def outcomes(report: dict[str, Any]) -> tuple[int, int, dict[str, int]]:
    """(successful calls, calls cut off by ghz at the end, real errors by message)."""
    messages: dict[str, int] = report.get("errorDistribution") or {}
    cut_off = sum(n for message, n in messages.items() if CUT_OFF in message)
    errors = {message: n for message, n in messages.items() if CUT_OFF not in message}
    return int((report.get("statusCodeDistribution") or {}).get("OK", 0)), cut_off, errors


def table(report: dict[str, Any], concurrency: int, duration: str, videos: int) -> list[tuple[str, str]]:
    """The rows to print: throughput, latency percentiles, errors."""
    percentiles = {int(p["percentage"]): p["latency"] / 1e6 for p in report.get("latencyDistribution") or []}
    ok, cut_off, errors = outcomes(report)
    rows = [("duration / concurrency / videos", f"{duration} / {concurrency} / {videos}"),
            ("calls OK", str(ok)),
            ("rps (OK calls per second)", f"{ok / (report['total'] / 1e9):.0f}"),
            *((f"p{p} latency", f"{percentiles[p]:.2f} ms") for p in (50, 95, 99) if p in percentiles),
            ("errors", str(sum(errors.values()))),
            *((f"  {message[:70]}", str(n)) for message, n in errors.items()),
            ("cut off by ghz at the end", str(cut_off))]
    return rows


def check_counts(stub: Any, video_ids: list[str], ok: int, cut_off: int) -> tuple[str, str]:
    """One more view of each video: the counts must add up to the OK calls plus these."""
    total = sum(stub.RecordView(pb.RecordViewRequest(request_id=str(uuid.uuid4()), video_id=video_id),
                                timeout=DEADLINE_S).view_count for video_id in video_ids)
    low, high = ok + len(video_ids), ok + len(video_ids) + cut_off
    verdict = "ok" if low <= total <= high else f"MISMATCH (expected {low}..{high})"
    return "views counted", f"{total} {verdict}"


def main(argv: list[str] | None = None) -> None:
    default = os.environ.get("VIDMESH_BENCH_ADDRESS") or f"127.0.0.1:{load().instance_ports('video_command')[0]}"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--address", default=default, help=f"video-command host:port (default {default})")
    parser.add_argument("--duration", default="10s", help="how long ghz runs (default 10s)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent calls (default 32)")
    parser.add_argument("--connections", type=int, default=4, help="gRPC connections (default 4)")
    parser.add_argument("--videos", type=int, default=1, help="videos the views go round (default 1)")
    args = parser.parse_args(argv)
    s = load()
    use_identity(f"{s.host}:{s.xds_port}", IdentityFolder(s.operator_certs), node="bench")
    with blocking_channel_to("video-command", args.address) as channel:  # mutual TLS, as the operator
        stub = pb_grpc.VideoCommandServiceStub(channel)
        video_ids = [published_video(stub) for _ in range(args.videos)]
        report = run_ghz(args.address, video_ids, args.duration, args.concurrency, args.connections)
        rows = table(report, args.concurrency, args.duration, args.videos)
        ok, cut_off, _ = outcomes(report)
        rows.append(check_counts(stub, video_ids, ok, cut_off))
    width = max(len(name) for name, _ in rows)
    print(f"RecordView on {args.address}")  # a CLI's report, not a log
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    main()
