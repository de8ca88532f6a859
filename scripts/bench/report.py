"""The price list as rows: printed as a Markdown table, written as Markdown and JSON, and the
latency CDFs and the lag histogram drawn as PNGs (matplotlib, no display)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Row:
    """One line of the price list: the measure, the headline (a ratio where noise would make
    an absolute number meaningless), the absolute numbers beside it, and its target."""

    section: str
    measure: str
    value: str
    absolute: str = ""
    target: str = ""
    met: bool | None = None  # None: the row has no target
    numbers: dict[str, float] = field(default_factory=dict)


@dataclass
class Curves:
    """Latency samples (ms) to draw: CDFs by name, and the lag samples by name."""

    cdfs: dict[str, list[float]] = field(default_factory=dict)
    lags: dict[str, list[float]] = field(default_factory=dict)


def verdict(met: bool | None) -> str:
    """The mark after a target."""
    return "" if met is None else (" ✓" if met else " ✗")


def markdown(rows: list[Row], heading: str) -> str:
    """The table, one section after the other."""
    lines = [heading, "", "| measure | value | absolute | target |", "|---|---|---|---|"]
    section = None
    for row in rows:
        if row.section != section:
            section = row.section
            lines.append(f"| **{section}** | | | |")
        lines.append(f"| {row.measure} | {row.value} | {row.absolute} | {row.target}{verdict(row.met)} |")
    return "\n".join(lines) + "\n"


def write(folder: Path, rows: list[Row], heading: str, machine: dict[str, Any], curves: Curves) -> list[Path]:
    """price-list.md, price-list.json and the plots under `folder`; returns what it wrote."""
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "price-list.md", folder / "price-list.json"
    md.write_text(markdown(rows, heading))
    js.write_text(json.dumps({"machine": machine, "rows": [_clean(asdict(row)) for row in rows]}, indent=2) + "\n")
    return [md, js, *plot(folder, curves)]


def _clean(value: Any) -> Any:
    """NaN is not JSON: a number that could not be measured is null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def plot(folder: Path, curves: Curves) -> list[Path]:
    """latency-cdf.png and lag-histogram.png."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    written = []
    if curves.cdfs:
        figure, axes = pyplot.subplots(figsize=(9, 5.5))
        for name, samples in curves.cdfs.items():
            ordered = sorted(samples)
            if ordered:
                axes.plot(ordered, [(n + 1) / len(ordered) for n in range(len(ordered))], label=name)
        axes.set_xscale("log")
        axes.set_xlabel("latency (ms, log scale)")
        axes.set_ylabel("share of calls at or below")
        axes.set_title("Latency CDFs, open-loop load (same run)")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8, loc="lower right")
        written.append(_save(figure, folder / "latency-cdf.png"))
    if curves.lags:
        figure, axes = pyplot.subplots(figsize=(9, 5.5))
        top = max((max(s) for s in curves.lags.values() if s), default=1.0)
        bins = [top * n / 60 for n in range(61)]
        for name, samples in curves.lags.items():
            axes.hist(samples, bins=bins, alpha=0.6, label=f"{name} ({len(samples)} probes)")
        axes.set_xlabel("commit -> visible in the read model (ms)")
        axes.set_ylabel("probes")
        axes.set_title("Commit -> visible lag")
        axes.legend()
        written.append(_save(figure, folder / "lag-histogram.png"))
    pyplot.close("all")
    return written


def _save(figure: Any, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path
