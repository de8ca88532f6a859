"""Password hashing with Argon2id (argon2-cffi), off the event loop.

A hash costs tens of milliseconds of CPU and 64 MiB of memory (RFC 9106's low-memory
profile, argon2-cffi's default), so hashing runs on a small pool of its own threads: the
event loop keeps serving, and a burst of logins queues instead of allocating 64 MiB each.
The hasher is a resource: `async with PasswordHasher() as hasher:` stops those threads.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Self, TypeVar

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

T = TypeVar("T")


class PasswordHasher:
    """Hash and verify passwords; `verify(None, ...)` costs the same as a real check."""

    def __init__(self, parameters: argon2.Parameters | None = None, workers: int | None = None) -> None:
        self._argon = argon2.PasswordHasher.from_parameters(parameters or argon2.profiles.RFC_9106_LOW_MEMORY)
        self._pool = ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2, thread_name_prefix="argon2")
        # Checked against when the email is unknown, so "no such user" takes as long as
        # "wrong password" and the timing does not tell which emails are registered.
        self._dummy_hash = self._argon.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        """The encoded Argon2id hash (parameters and salt included) to store."""
        return await self._run(self._argon.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether the password matches the hash; None checks against a dummy and is False."""
        matches = await self._run(self._verify, password_hash or self._dummy_hash, password)
        return matches and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than today's."""
        return self._argon.check_needs_rehash(password_hash)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop the hashing threads (after the calls in flight), off the event loop."""
        await asyncio.to_thread(self._pool.shutdown, wait=True)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def _run(self, function: Callable[..., T], *args: str) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)
