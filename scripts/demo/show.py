"""How the tour writes to the terminal: headings, explanations, commands and results.

The tour is a command-line program whose output is the point, hence print.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

WIDTH = 96
RESULT_LINES = 14


def heading(number: int, pattern: str, subtitle: str) -> None:
    """The banner of one step."""
    print(f"\n{'=' * WIDTH}\n{number}. {pattern}: {subtitle}\n{'=' * WIDTH}")


def explain(text: str) -> None:
    """A few plain sentences on what the step does and why."""
    print(textwrap.fill(" ".join(text.split()), WIDTH))


def say(text: str) -> None:
    """A line of narration between calls."""
    print(f"\n# {text}")


def command(line: str) -> None:
    """A command line the reader can paste."""
    print(f"$ {line}")


def result(text: str, max_lines: int = RESULT_LINES) -> None:
    """Output of a call, indented and cut to a few lines."""
    lines = text.rstrip().splitlines() or [""]
    shown = lines[:max_lines] + ([f"... ({len(lines) - max_lines} more lines)"] if len(lines) > max_lines else [])
    print(textwrap.indent("\n".join(shown), "  "))


def json_result(value: Any, max_lines: int = RESULT_LINES) -> None:
    """A JSON value, pretty printed and cut to a few lines."""
    result(json.dumps(value, indent=2), max_lines)


def check(passed: bool, what: str) -> bool:
    """Print one expectation and whether it held."""
    print(f"  [{'ok' if passed else 'FAILED'}] {what}")
    return passed


def summary(rows: list[tuple[str, bool, str]]) -> None:
    """The table at the end: one row per step."""
    print(f"\n{'=' * WIDTH}\n{'#':<3}{'pattern':<24}{'result':<8}what happened\n{'-' * WIDTH}")
    for number, (pattern, passed, note) in enumerate(rows, 1):
        print(f"{number:<3}{pattern:<24}{'ok' if passed else 'FAILED':<8}{note}")
    print("=" * WIDTH)
