"""Register and Login through the handlers, with in-memory storage."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from mesh.errors import AlreadyExists, InvalidArgument, Unauthenticated
from services.users import domain, handlers, tokens
from services.users.handlers import Deps, Login, Register
from services.users.passwords import PasswordHasher
from tests.unit.users.conftest import CHEAP
from tests.unit.users.fakes import State


def registration(email: str = "Ann@Example.com", request_id: str = "", password: str = "hunter22x") -> Register:
    return Register(request_id, email, password, "Ann")


async def test_register_stores_a_normalised_email_and_a_hash_and_announces_the_user(
        deps: Deps, state: State) -> None:
    user_id = await handlers.register(registration(), deps)
    account = state.accounts[user_id]
    assert account.email == "ann@example.com"
    assert account.password_hash.startswith("$argon2id$")
    assert state.events == [domain.UserRegistered(user_id, "ann@example.com", "Ann")]


async def test_an_email_registered_in_another_case_is_already_exists(deps: Deps, state: State) -> None:
    await handlers.register(registration("ann@example.com"), deps)
    with pytest.raises(AlreadyExists):
        await handlers.register(registration("ANN@EXAMPLE.COM"), deps)
    assert len(state.accounts) == 1
    assert len(state.events) == 1


async def test_a_weak_password_is_invalid_and_stores_nothing(deps: Deps, state: State) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await handlers.register(registration(password="onlyletters"), deps)
    assert [(v.field, v.description) for v in caught.value.violations] == [
        ("password", "must contain at least one digit (password.digit)")]
    assert state.accounts == {}
    assert state.events == []


async def test_a_retried_registration_returns_the_first_user_and_registers_once(deps: Deps, state: State) -> None:
    request_id = str(uuid.uuid4())
    first = await handlers.register(registration(request_id=request_id), deps)
    again = await handlers.register(registration(request_id=request_id), deps)
    assert again == first
    assert len(state.accounts) == 1
    assert len(state.events) == 1


async def test_a_request_id_reused_for_another_registration_is_invalid(deps: Deps, state: State) -> None:
    request_id = str(uuid.uuid4())
    await handlers.register(registration("ann@example.com", request_id), deps)
    with pytest.raises(InvalidArgument, match=r"request_id\.reused") as caught:
        await handlers.register(registration("bob@example.com", request_id), deps)
    assert [v.field for v in caught.value.violations] == ["request_id"]
    assert [account.email for account in state.accounts.values()] == ["ann@example.com"]


async def test_a_retry_differing_only_in_email_case_is_the_same_registration(deps: Deps) -> None:
    request_id = str(uuid.uuid4())
    first = await handlers.register(registration("ann@example.com", request_id), deps)
    assert await handlers.register(registration("ANN@example.com", request_id), deps) == first


async def test_the_password_is_no_part_of_a_registrations_fingerprint(deps: Deps, state: State) -> None:
    # A secret never goes into the request log, so a retry that changed only the password
    # is the same request: it gets the first answer, and the first password stays.
    request_id = str(uuid.uuid4())
    first = await handlers.register(registration("ann@example.com", request_id, password="hunter22x"), deps)
    again = await handlers.register(registration("ann@example.com", request_id, password="other pass 9"), deps)
    assert again == first and len(state.accounts) == 1
    assert await deps.hasher.verify(state.accounts[first].password_hash, "hunter22x")


async def test_a_failed_registration_does_not_use_up_its_request_id(deps: Deps, state: State) -> None:
    await handlers.register(registration("ann@example.com"), deps)
    request_id = str(uuid.uuid4())
    with pytest.raises(AlreadyExists):
        await handlers.register(registration("ann@example.com", request_id), deps)
    assert request_id not in state.requests


async def test_login_issues_a_token_for_the_user_whatever_the_email_case(deps: Deps) -> None:
    user_id = await handlers.register(registration("ann@example.com"), deps)
    done = await handlers.login(Login("ANN@example.com", "hunter22x"), deps)
    assert done.user_id == user_id
    assert tokens.verify(done.token.token, deps.tokens.jwks())["sub"] == user_id


async def test_wrong_password_and_unknown_email_fail_alike(deps: Deps) -> None:
    await handlers.register(registration("ann@example.com"), deps)
    failures = []
    for attempt in (Login("ann@example.com", "hunter22y"), Login("nobody@example.com", "hunter22x")):
        with pytest.raises(Unauthenticated) as caught:
            await handlers.login(attempt, deps)
        failures.append(caught.value.message)
    assert failures == [handlers.LOGIN_FAILED, handlers.LOGIN_FAILED]


class CountingHasher(PasswordHasher):
    """Counts the checks, to show an unknown email still costs one."""

    checked: list[str | None]

    async def verify(self, password_hash: str | None, password: str) -> bool:
        self.checked.append(password_hash)
        return await super().verify(password_hash, password)


async def test_an_unknown_email_still_costs_a_password_check(deps: Deps) -> None:
    async with CountingHasher(CHEAP, workers=1) as hasher:
        hasher.checked = []
        with pytest.raises(Unauthenticated):
            await handlers.login(Login("nobody@example.com", "hunter22x"), dataclasses.replace(deps, hasher=hasher))
    assert hasher.checked == [None]


async def test_login_moves_an_old_hash_to_the_current_parameters(deps: Deps, state: State) -> None:
    user_id = await handlers.register(registration("ann@example.com"), deps)
    old_hash = state.accounts[user_id].password_hash
    async with PasswordHasher(dataclasses.replace(CHEAP, time_cost=2), workers=1) as stronger:
        await handlers.login(Login("ann@example.com", "hunter22x"), dataclasses.replace(deps, hasher=stronger))
    new_hash = state.accounts[user_id].password_hash
    assert new_hash != old_hash
    assert "t=2" in new_hash
