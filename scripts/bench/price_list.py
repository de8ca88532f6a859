"""The price of each pattern, measured side by side in one run on a private stack.

    python -m scripts.bench.price_list [--seconds 8]     (`make bench` runs it)

Prints the table and writes it to .run/bench/ (price-list.md, price-list.json, and the
latency CDFs and the lag histogram as PNGs). Ratios are the headline where the machine's
noise would make an absolute number meaningless; the absolute numbers stand beside them,
each target beside its row. Closed-loop runs measure throughput, open-loop runs latency
(scripts/bench/load.py says why).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import psutil

from mesh import topology
from mesh.settings import ROOT
from scripts.bench import failover, pages, pipeline, report, sections, tracing
from scripts.bench.load import Tools
from scripts.bench.private_stack import PeakMemory, cpu_seconds, memory_mib, private_stack
from scripts.bench.processes import address, as_operator, ceiling_server
from scripts.bench.report import Curves, Row
from scripts.toolchain import Toolchain

OUT = ROOT / ".run" / "bench"


def machine() -> dict[str, Any]:
    """What the numbers were measured on, and how busy it was when the run began."""
    return {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30),
            "processor": platform.processor() or platform.machine(), "python": platform.python_version(),
            "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def run(seconds: float) -> tuple[list[Row], Curves, dict[str, Any]]:
    """Every row, in order, on one private stack."""
    about, curves, rows = machine(), Curves(), list[Row]()
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"price list: starting a private stack (load average {about['load_average_at_start']}) ...", flush=True)
    with private_stack(keep_logs=OUT / "stack-logs") as stack:
        settings = stack.settings
        tools = Toolchain(settings.cache_dir)
        operator = as_operator(settings)  # every call into the mesh is over mutual TLS, as the operator
        gen = Tools(tools.go_binary("ghz"), tools.go_binary("vegeta"), operator)
        video = asyncio.run(pages.page_video(settings))
        idle = memory_mib(stack)
        url = f"http://{settings.host}:{settings.envoy_port}/api/web/v1/videos/{video}"

        def ceiling() -> list[Row]:
            with ceiling_server(settings, OUT / "ceiling.log") as empty:
                return sections.ceiling_vs_get_video(gen, empty, address(settings, "video_query"), video, curves,
                                                     seconds)

        def mtls() -> list[Row]:
            with (ceiling_server(settings, OUT / "ceiling-mtls.log") as secure,
                  ceiling_server(settings, OUT / "ceiling-plaintext.log", mtls=False) as plain):
                return sections.mtls_on_vs_off(gen, secure, plain, video, seconds)

        def tracing_() -> list[Row]:
            entry = topology.service("video-query")
            with (tracing.instance(settings, entry, True, OUT / "video-query-traced.log") as traced,
                  tracing.instance(settings, entry, False, OUT / "video-query-untraced.log") as untraced):
                return sections.tracing_on_vs_off(gen, traced, untraced, video, seconds)

        steps: list[tuple[str, Callable[[], list[Row]]]] = [
            ("framework ceiling vs GetVideo", ceiling),
            ("mTLS on vs off", mtls),
            ("tracing on vs off", tracing_),
            ("web video page", lambda: sections.web_page(gen, settings, video, curves, seconds)),
            ("commit -> visible", lambda: sections.lag_rows(gen, settings, curves)),
            ("event pipeline", lambda: sections.pipeline_rows(pipeline.measure(
                gen, settings, lambda: cpu_seconds(stack), events=int(400 * seconds), videos=100, concurrency=32),
                os.cpu_count() or 1)),
            ("scaling", lambda: sections.scaling(gen, settings, video, seconds)),
            ("failover", lambda: sections.failover_rows(failover.measure(
                gen, stack, url, "video-query-1", address(settings, "video_query", 1),
                rate=_failover_rate(rows), seconds=max(12.0, 2 * seconds)))),
        ]
        with PeakMemory(stack) as peak:
            for name, step in steps:
                rows += _measured(name, step)
        rows += sections.memory_rows(idle, peak.peak)
    about["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    return rows, curves, about


def _failover_rate(rows: list[Row]) -> float:
    """A quarter of the page's closed-loop rate (10 to 100 a second): a load the stack carries."""
    pages = next((row.numbers.get("rps", 0.0) for row in rows if row.measure.startswith("at web-bff")), 0.0)
    return max(10.0, min(100.0, pages / 4))


def _measured(name: str, step: Callable[[], list[Row]]) -> list[Row]:
    """A section's rows, or one row saying why it could not be measured (the others still run)."""
    print(f"price list: {name} ...", flush=True)
    began = time.monotonic()
    try:
        rows = step()
    except Exception as error:  # a broken section is reported in the table, not a lost run
        traceback.print_exc()
        return [Row(name, "could not be measured", "FAILED", f"{type(error).__name__}: {error}"[:200], met=False)]
    print(f"price list: {name} done in {time.monotonic() - began:.0f} s", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each load run (default 8)")
    args = parser.parse_args(argv)
    rows, curves, about = run(args.seconds)
    heading = (f"price list, {about['when']}: {about['cpus']} cores, {about['memory_gib']} GiB, load average "
               f"{about['load_average_at_start'][0]} at the start and {about['load_average_at_end'][0]} at the end")
    print("\n" + report.markdown(rows, heading))
    for path in report.write(OUT, rows, heading, about, curves):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0 if all(row.met is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
