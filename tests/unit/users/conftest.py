from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import argon2
import pytest

from services.users import keys
from services.users.handlers import Deps
from services.users.passwords import PasswordHasher
from services.users.tokens import TokenIssuer
from tests.unit.users.fakes import FakeUnitOfWork, State

# Argon2id at its cheapest, so unit tests hash in microseconds; production uses RFC 9106.
CHEAP = argon2.Parameters(type=argon2.Type.ID, version=19, salt_len=16, hash_len=32,
                          time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
async def hasher() -> AsyncIterator[PasswordHasher]:
    async with PasswordHasher(CHEAP, workers=1) as hasher:
        yield hasher


@pytest.fixture
def keys_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "jwt"
    keys.ensure_key(folder)
    return folder


@pytest.fixture
def state() -> State:
    return State()


@pytest.fixture
def deps(state: State, hasher: PasswordHasher, keys_folder: Path) -> Deps:
    return Deps(uow=lambda: FakeUnitOfWork(state), hasher=hasher, tokens=TokenIssuer(keys.KeyRing(keys_folder)),
                reads=lambda: FakeUnitOfWork(state))
