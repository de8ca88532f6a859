"""A load generator in Python, for calls no off-the-shelf tool makes: the web page's fan-out
done by the client itself, compared with the same generator asking web-bff for the page.

Open loop: call n starts at `start + n / rate` whether or not earlier calls answered, and
its latency counts from that planned start, so a stall is charged to every call it delays
(no coordinated omission). Closed loop: `concurrency` workers, each calling again as soon
as its call answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import grpc.aio

from scripts.bench.load import Load

Call = Callable[[], Awaitable[object]]


async def open_loop(call: Call, rate: float, seconds: float) -> Load:
    """`rate` calls a second for `seconds`."""
    loop = asyncio.get_running_loop()
    start, latencies, errors = loop.time() + 0.1, list[float](), dict[str, int]()

    async def planned(at: float) -> None:
        await asyncio.sleep(max(0.0, at - loop.time()))
        if await _failed(call, errors):
            return
        latencies.append((loop.time() - at) * 1000)

    await asyncio.gather(*(planned(start + n / rate) for n in range(int(rate * seconds))))
    return Load(len(latencies), loop.time() - start, latencies, errors)


async def closed_loop(call: Call, concurrency: int, seconds: float) -> Load:
    """`concurrency` calls in flight for `seconds`."""
    loop = asyncio.get_running_loop()
    start, latencies, errors = loop.time(), list[float](), dict[str, int]()

    async def worker() -> None:
        while loop.time() - start < seconds:
            began = loop.time()
            if not await _failed(call, errors):
                latencies.append((loop.time() - began) * 1000)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Load(len(latencies), loop.time() - start, latencies, errors)


async def _failed(call: Call, errors: dict[str, int]) -> bool:
    try:
        await call()
        return False
    except grpc.aio.AioRpcError as error:
        message = f"{error.code().name} {error.details() or ''}"[:80]
        errors[message] = errors.get(message, 0) + 1
        return True
