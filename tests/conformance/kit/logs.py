"""The JSON lines an instance writes on stdout, collected as they come and searchable."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

Line = dict[str, Any]
KEPT_FOR_MESSAGES = 8


class LogLines:
    """Every line read so far; a line that is not JSON is kept as `{"non_json": text}`."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self._changed = asyncio.Event()

    def add(self, text: str) -> None:
        """One line of output."""
        try:
            line = json.loads(text)
        except json.JSONDecodeError:
            line = None
        self.lines.append(line if isinstance(line, dict) else {"non_json": text.rstrip("\n")})
        self._changed.set()

    def matching(self, wanted: Callable[[Line], bool]) -> list[Line]:
        """The lines read so far that `wanted` accepts."""
        return [line for line in self.lines if wanted(line)]

    async def wait_for(self, wanted: Callable[[Line], bool], timeout: float) -> list[Line]:
        """The lines `wanted` accepts, once there is at least one (or [] after `timeout`)."""
        async def first() -> None:
            while not self.matching(wanted):
                self._changed.clear()
                await self._changed.wait()
        try:
            await asyncio.wait_for(first(), timeout)
        except TimeoutError:
            return []
        return self.matching(wanted)

    def tail(self) -> str:
        """The last lines, for a failure message."""
        return "\n".join(json.dumps(line)[:400] for line in self.lines[-KEPT_FOR_MESSAGES:])
