"""Blocking calls that must never hold a process's exit.

`asyncio.to_thread` runs in the default executor, whose threads Python joins at exit: a
Consul blocking query (up to its `wait`) or a Kafka admin call against a broker that is away
(up to its timeout) would hold a SIGTERM for that long. A daemon thread is not joined.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")


async def in_daemon_thread(function: Callable[..., T], *args: Any, name: str = "vidmesh-blocking") -> T:
    """Run a blocking call in a daemon thread and await its result (or exception)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():  # the awaiting task may have been cancelled meanwhile
            outcome()

    def work() -> None:
        try:
            result = function(*args)
        except BaseException as error:  # handed to the awaiting task, which decides
            report = partial(settle, partial(future.set_exception, error))
        else:
            report = partial(settle, partial(future.set_result, result))
        with contextlib.suppress(RuntimeError):  # the loop closed while the call blocked
            loop.call_soon_threadsafe(report)

    threading.Thread(target=work, name=name, daemon=True).start()
    return await future
