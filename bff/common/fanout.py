"""Structured concurrency for a page: start its calls together, finish them together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def fan_out() -> AsyncIterator[asyncio.TaskGroup]:
    """A TaskGroup whose first failure propagates as itself, not inside an ExceptionGroup.

    Optional parts never raise (failures.optional), so what fails is the core call (or a
    wrong client input); the others are cancelled and mesh's interceptor sees the
    mesh.errors type it maps to a status.
    """
    try:
        async with asyncio.TaskGroup() as group:
            yield group
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0]  # noqa: B904 -- its own cause (the downstream error) is kept
