"""Argon2id hashing: round trip, wrong passwords, the dummy check and rehashing."""

from __future__ import annotations

import dataclasses

from services.users.passwords import PasswordHasher
from tests.unit.users.conftest import CHEAP


async def test_a_hash_verifies_its_password_and_no_other(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("hunter22x")
    assert stored.startswith("$argon2id$")
    assert "hunter22x" not in stored
    assert await hasher.verify(stored, "hunter22x")
    assert not await hasher.verify(stored, "hunter22y")


async def test_two_hashes_of_one_password_differ_by_their_salt(hasher: PasswordHasher) -> None:
    assert await hasher.hash("hunter22x") != await hasher.hash("hunter22x")


async def test_no_stored_hash_is_checked_against_the_dummy_and_fails(hasher: PasswordHasher) -> None:
    assert not await hasher.verify(None, "hunter22x")


async def test_a_garbled_hash_fails_rather_than_raising(hasher: PasswordHasher) -> None:
    assert not await hasher.verify("not-a-hash", "hunter22x")


async def test_a_hash_with_older_parameters_needs_a_rehash(hasher: PasswordHasher) -> None:
    async with PasswordHasher(dataclasses.replace(CHEAP, time_cost=2), workers=1) as stronger:
        stored = await hasher.hash("hunter22x")
        assert stronger.needs_rehash(stored)
        assert not hasher.needs_rehash(stored)
        assert await stronger.verify(stored, "hunter22x")  # old hashes keep working meanwhile
