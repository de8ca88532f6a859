"""The one retry rhythm of every loop in vidmesh that waits for something to come back.

    backoff = Backoff()
    while not stopping.is_set():
        try:
            await work()
            backoff.reset()
        except ExpectedOutage as error:
            delay = backoff.next()
            log.warning("...", retry_in=delay)
            if await pause(stopping, delay):
                break

Exponential with jitter (a fleet of instances must not retry in step), capped, and every
pause ends early when the process is stopping.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field


@dataclass(kw_only=True)
class Backoff:
    """Delays of 0.5x-1x of `initial * 2**n`, capped at `maximum`; `reset()` after a success."""

    initial: float = 0.25
    maximum: float = 30.0
    failures: int = field(default=0, init=False)

    def next(self) -> float:
        """Count a failure and return how long to wait before the next attempt, in seconds."""
        self.failures += 1
        ceiling = min(self.maximum, self.initial * 2 ** min(self.failures - 1, 30))
        return float(round(ceiling * random.uniform(0.5, 1.0), 3))

    def reset(self) -> None:
        """The last attempt worked: the next failure starts from `initial` again."""
        self.failures = 0


async def pause(stopping: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds`, or less if `stopping` is set meanwhile; True when it was set."""
    try:
        await asyncio.wait_for(stopping.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True
