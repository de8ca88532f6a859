"""What tracing costs: RecordView throughput of video-command with tracing on and off, same run.

    python -m scripts.bench.tracing [--duration 8s] [--concurrency 16] [--rounds 2]

Starts two extra video-command processes beside the running stack (same database, not in
Consul), one exporting spans to the stack's Jaeger and one with VIDMESH_TRACING=false, then
runs ghz against them in turns (on, off, on, off...) so that the machine's noise falls on
both alike, and prints rps and latency per side with the ratio. Both take mutual TLS only, as
every instance does: the calls present the operator's certificate.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mesh import topology
from mesh.dbbootstrap import dsn
from mesh.settings import ROOT, Settings, load
from mesh.xds.bootstrap import blocking_channel_to
from scripts.bench.processes import as_operator, free_port, wait_serving
from scripts.bench.record_view import outcomes, published_video, run_ghz
from scripts.devstack.layout import Layout
from scripts.devstack.vidmesh import common_env

sys.path.insert(0, str(ROOT / "gen" / "python"))
from vidmesh.video.v1 import video_command_service_pb2_grpc as pb_grpc

READY_TIMEOUT_S = 60.0
SERVICE = topology.service("video-command")


@contextmanager
def instance(s: Settings, entry: topology.Service, tracing: bool, log: Path) -> Iterator[str]:
    """An instance of `entry` beside the stack of `s`, not in Consul, with tracing on (spans to
    that stack's Jaeger) or off, over mutual TLS like every instance; its address once its
    plaintext health port says SERVING."""
    assert entry.database is not None, f"{entry.name} has no database to share"
    port, health = free_port(s.host), free_port(s.host)  # the stack's health port on this host is xds's
    env = {**os.environ, **common_env(s, Layout(s)), "VIDMESH_GRPC_HOST": s.host, "VIDMESH_GRPC_PORT": str(port),
           "VIDMESH_HEALTH_PORT": str(health), "VIDMESH_CONSUL_REGISTER": "false",
           "VIDMESH_TRACING": str(tracing).lower(), "VIDMESH_DATABASE_URL": dsn(entry.database.role, s)}
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, *entry.command[1:]], env=env, cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        wait_serving(f"{s.host}:{health}", timeout=READY_TIMEOUT_S)
        yield f"{s.host}:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", default="8s")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    settings = load()
    as_operator(settings)  # ghz and the setup calls present the operator's certificate
    logs = Layout(settings).logs
    logs.mkdir(parents=True, exist_ok=True)
    results: dict[bool, list[tuple[int, float, float]]] = {True: [], False: []}
    with (instance(settings, SERVICE, True, logs / "bench-tracing-on.log") as on,
          instance(settings, SERVICE, False, logs / "bench-tracing-off.log") as off):
        for _ in range(args.rounds):
            for traced, address in ((True, on), (False, off)):
                with blocking_channel_to(SERVICE.name, address) as channel:
                    video = published_video(pb_grpc.VideoCommandServiceStub(channel))
                report = run_ghz(address, [video], args.duration, args.concurrency, 4)
                ok, _, _ = outcomes(report)
                latencies = {int(p["percentage"]): p["latency"] / 1e6 for p in report.get("latencyDistribution") or []}
                results[traced].append((ok, report["total"] / 1e9, latencies.get(99, 0.0)))
    rps = {traced: sum(ok for ok, _, _ in runs) / sum(seconds for _, seconds, _ in runs)
           for traced, runs in results.items()}
    p99 = {traced: max(p for _, _, p in runs) for traced, runs in results.items()}
    print(f"RecordView, tracing on vs off ({args.rounds} rounds of {args.duration} each, "
          f"concurrency {args.concurrency})")
    print(f"  tracing on   {rps[True]:7.0f} rps   worst p99 {p99[True]:7.2f} ms")
    print(f"  tracing off  {rps[False]:7.0f} rps   worst p99 {p99[False]:7.2f} ms")
    print(f"  on / off     {rps[True] / rps[False]:7.2f} of the throughput")


if __name__ == "__main__":
    main()
