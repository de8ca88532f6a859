"""Small helpers shared by the BFF integration tests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

from vidmesh.users.v1 import users_service_pb2 as users

from tests.integration.bff.support import Stubs

CALL_TIMEOUT_S = 10.0


def as_user(user_id: str) -> tuple[tuple[str, str], ...]:
    """The metadata the gateway adds for a verified user."""
    return (("x-user-id", user_id),)


async def register(clients: Stubs, name: str) -> str:
    """A new account (unique email); returns its id."""
    answer = await clients.users.Register(users.RegisterRequest(
        request_id=str(uuid.uuid4()), email=f"{uuid.uuid4().hex}@bff.test", password="correct horse 42 battery",
        display_name=name), timeout=CALL_TIMEOUT_S)
    return str(answer.user_id)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, interval: float = 0.2) -> None:
    """Poll `check` until it holds (for what reaches a read model through events)."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true within {timeout}s")
        await asyncio.sleep(interval)  # the interval of a bounded poll
