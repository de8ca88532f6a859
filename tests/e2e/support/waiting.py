"""Bounded polling: the one way the e2e tests wait for something eventually consistent."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 20.0, interval: float = 0.1) -> T:
    """Call `probe` until it returns something truthy and return that; fail naming `what`
    once `timeout` seconds have passed. The probe may raise AssertionError to say "not yet"."""
    deadline = time.monotonic() + timeout
    last: str = "nothing yet"
    while True:
        try:
            result = probe()
            if result:
                return result
            last = repr(result)
        except AssertionError as error:
            last = str(error)
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s (last: {last[:600]})")
        time.sleep(interval)  # the polling interval of a bounded wait
