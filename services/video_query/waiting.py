"""Read-your-writes: wait, for a bounded time, until the projection reaches a version.

The projector NOTIFYs each video's new version from its transaction (so the notice comes
after the commit); adapters/notify.py LISTENs and calls `wake(video_id)`. A waiter re-reads
the version when woken, and also every POLL_S, so a lost notification (the listening
connection was down) costs a fraction of a second, never the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

MAX_WAIT_S = 2.0
POLL_S = 0.25
# Part of the client's remaining time kept back to send the answer before its deadline.
RESERVE_S, RESERVE_SHARE = 0.25, 0.25


def wait_budget(max_wait_s: float, time_left: float | None) -> float:
    """How long a query may wait: at most max_wait_s, and never into the client's deadline."""
    if time_left is None:
        return max_wait_s
    return max(0.0, min(max_wait_s, time_left - min(RESERVE_S, time_left * RESERVE_SHARE)))


class VersionWaiter:
    """Queries wait here for a video's version; the projection's notices wake them."""

    def __init__(self, poll_s: float = POLL_S) -> None:
        self._poll_s = poll_s
        self._waiting: dict[str, set[asyncio.Event]] = {}

    def wake(self, video_id: str) -> None:
        """The projection changed this video: waiters re-read its version."""
        for woken in self._waiting.get(video_id, ()):
            woken.set()

    def waiting(self, video_id: str) -> int:
        """How many queries are waiting for this video now."""
        return len(self._waiting.get(video_id, ()))

    def wake_all(self) -> None:
        """Notices may have been missed (the listener reconnected): everyone re-reads."""
        for waiting in self._waiting.values():
            for woken in waiting:
                woken.set()

    async def wait(self, video_id: str, min_version: int, budget_s: float,
                   read: Callable[[], Awaitable[int | None]]) -> int | None:
        """The version `read` returns once it is >= min_version, or the last one read when
        `budget_s` runs out (None: the projection has not seen the video)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget_s
        woken = asyncio.Event()
        self._waiting.setdefault(video_id, set()).add(woken)
        try:
            while True:
                woken.clear()  # before reading, so a notice that lands meanwhile is not lost
                version = await read()
                left = deadline - loop.time()
                if (version is not None and version >= min_version) or left <= 0:
                    return version
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), min(left, self._poll_s))
        finally:
            self._forget(video_id, woken)

    def _forget(self, video_id: str, woken: asyncio.Event) -> None:
        waiting = self._waiting.get(video_id)
        if waiting is not None:
            waiting.discard(woken)
            if not waiting:
                del self._waiting[video_id]
