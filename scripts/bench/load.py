"""Load generators, driven as subprocesses: ghz for gRPC, vegeta for HTTP.

Two kinds of run, and each number in the price list says which it comes from:
- closed loop (`concurrency` calls in flight, each sent when the previous one answered):
  what a service sustains, i.e. throughput;
- open loop (`rate` calls per second sent on a fixed schedule, whether or not earlier ones
  answered: ghz `--async --rps`, vegeta's default): latency as a client sees it. A closed
  loop hides a stall (a generator that waits sends nothing while the server is stuck,
  "coordinated omission"); an open loop keeps sending, so the stall shows in the percentiles.

Calls that ghz or vegeta cut off when the run's time is up are neither successes nor errors.
"""

from __future__ import annotations

import csv
import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mesh.settings import ROOT
from scripts.bench.stats import percentile

PROTOSET = ROOT / "gen" / "vidmesh.binpb"
CUT_OFF = ("closed network connection", "context canceled")
RUN_TIMEOUT_S = 600


@dataclass(frozen=True)
class Load:
    """What one run of a load generator measured."""

    ok: int
    seconds: float
    latencies_ms: list[float]  # of the successful calls
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        """Successful calls per second."""
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        """Calls that failed (not counting those cut off at the end)."""
        return sum(self.errors.values())

    def p(self, q: float) -> float:
        """The q-th percentile of the successful calls' latency, in ms."""
        return percentile(self.latencies_ms, q)


@dataclass(frozen=True)
class Tools:
    """Where the generators are."""

    ghz: Path
    vegeta: Path


def ghz(tools: Tools, address: str, method: str, data: Any, *, concurrency: int, duration_s: float | None = None,
        total: int | None = None, rate: float | None = None, connections: int = 1) -> Load:
    """Drive `method` at `address`: closed loop at `concurrency`, or open loop at `rate`/s."""
    command = [str(tools.ghz), "--insecure", f"--protoset={PROTOSET}", f"--call={method}",
               f"--data={json.dumps(data)}", f"--concurrency={concurrency}", f"--connections={connections}",
               "--timeout=10s", "--format=json"]
    command += [f"--duration={duration_s}s"] if duration_s else [f"--total={total}"]
    if rate is not None:
        command += ["--async", f"--rps={rate:.0f}"]
    done = subprocess.run([*command, address], capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    if not done.stdout.strip():
        raise RuntimeError(f"ghz failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return _from_ghz(json.loads(done.stdout))


def _from_ghz(report: dict[str, Any]) -> Load:
    latencies, errors = list[float](), dict[str, int]()
    for call in report.get("details") or []:
        if call.get("status") == "OK" and not call.get("error"):
            latencies.append(call["latency"] / 1e6)
            continue
        message = str(call.get("error") or call.get("status"))
        if not any(cut in message for cut in CUT_OFF):
            errors[message[:80]] = errors.get(message[:80], 0) + 1
    return Load(len(latencies), report["total"] / 1e9, latencies, errors)


def vegeta(tools: Tools, url: str, *, duration_s: float, rate: float | None = None, workers: int = 16,
           headers: dict[str, str] | None = None) -> Load:
    """GET `url`: open loop at `rate`/s, or closed loop with `workers` when rate is None."""
    with tempfile.TemporaryDirectory(prefix="vidmesh-vegeta-") as folder:
        results = Path(folder) / "results.bin"
        pace = [f"-rate={rate:.0f}/s", f"-workers={workers}"] if rate else ["-rate=0", f"-max-workers={workers}",
                                                                             f"-workers={workers}"]
        command = [str(tools.vegeta), "attack", f"-duration={duration_s}s", "-timeout=10s", *pace,
                   f"-output={results}", *(f"-header={k}: {v}" for k, v in (headers or {}).items())]
        done = subprocess.run(command, input=f"GET {url}\n", capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"vegeta failed ({done.returncode}): {done.stderr.strip()[:500]}")
        encoded = subprocess.run([str(tools.vegeta), "encode", "--to=csv", str(results)], capture_output=True,
                                 text=True, timeout=RUN_TIMEOUT_S, check=True)
    return _from_vegeta_csv(encoded.stdout)


def _from_vegeta_csv(text: str) -> Load:
    # Columns: timestamp (ns), status code, latency (ns), bytes out, bytes in, error, ...
    latencies, errors, first, last = list[float](), dict[str, int](), None, None
    for row in csv.reader(text.splitlines()):
        started, code, latency, error = int(row[0]), int(row[1]), int(row[2]), row[5]
        first = started if first is None else min(first, started)
        last = started + latency if last is None else max(last, started + latency)
        if code == 200 and not error:
            latencies.append(latency / 1e6)
        elif not any(cut in error for cut in CUT_OFF):
            message = f"HTTP {code} {error}".strip()[:80]
            errors[message] = errors.get(message, 0) + 1
    seconds = ((last or 0) - (first or 0)) / 1e9
    return Load(len(latencies), seconds, latencies, errors)
