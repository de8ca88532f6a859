"""Per-call deadlines: each downstream call gets its own budget, never beyond the caller's.

A page's optional parts get a short budget so one slow service costs its part, not the
page; the core read gets enough to cover video-query's read-your-writes wait (2 s). Every
budget is also cut to the caller's remaining time minus a small reserve, so when a part
runs out the BFF still has time to answer with it degraded instead of missing its own
deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mesh import interceptors

READ_S = 3.0  # a page's core read; video-query may wait up to 2 s for min_version
PART_S = 1.0  # an optional part of a page
WRITE_S = 5.0  # a command
# The time kept back from the caller's remaining deadline to assemble and send the answer.
RESERVE_S, RESERVE_SHARE = 0.1, 0.2


@dataclass(frozen=True)
class Deadlines:
    """Timeouts, in seconds, for the calls made while serving one request."""

    read_s: float = READ_S
    part_s: float = PART_S
    write_s: float = WRITE_S
    # Seconds left of the call being served (None outside a call); the tests pass their own.
    time_left: Callable[[], float | None] = field(default=interceptors.time_left)

    def read(self) -> float:
        """For the core read of a page, or a part that waits for min_version."""
        return self.bounded(self.read_s)

    def part(self) -> float:
        """For an optional part of a page."""
        return self.bounded(self.part_s)

    def write(self) -> float:
        """For a command."""
        return self.bounded(self.write_s)

    def bounded(self, budget: float) -> float:
        """`budget`, cut to the caller's remaining time less the reserve."""
        left = self.time_left()
        if left is None:
            return budget
        return max(0.0, min(budget, left - min(RESERVE_S, left * RESERVE_SHARE)))
