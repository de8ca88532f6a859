"""One meaning of request_id everywhere: the first answer is replayed, another request with
the same id is INVALID_ARGUMENT naming request_id, no id means no protection, secrets stay out."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mesh.errors import InvalidArgument
from mesh.idempotency import Recorded, fingerprint, fingerprint_of, once
from tests.unit.fake_requests import FakeRequestLog


@dataclass(frozen=True)
class Register:
    request_id: str
    email: str
    password: str


@dataclass(frozen=True)
class Answer:
    user_id: str


class Counter:
    def __init__(self) -> None:
        self.runs = 0

    async def __call__(self) -> Answer:
        self.runs += 1
        return Answer(f"user-{self.runs}")


async def test_a_replay_gets_the_first_answer_without_running_again() -> None:
    log, work = FakeRequestLog({}), Counter()
    key = fingerprint_of(Register("r1", "ada@example.test", "x"))
    first = await once(log, "r1", "Register", key, Answer, work)
    again = await once(log, "r1", "Register", key, Answer, work)
    assert first == again == Answer("user-1") and work.runs == 1


@pytest.mark.parametrize(("method", "email"), [("Register", "bob@example.test"), ("Follow", "ada@example.test")])
async def test_the_same_id_for_another_request_is_invalid_argument_naming_request_id(method: str, email: str) -> None:
    log, work = FakeRequestLog({}), Counter()
    await once(log, "r1", "Register", fingerprint_of(Register("r1", "ada@example.test", "x")), Answer, work)
    with pytest.raises(InvalidArgument) as raised:
        await once(log, "r1", method, fingerprint_of(Register("r1", email, "x")), Answer, work)
    assert raised.value.violations[0].field == "request_id" and work.runs == 1


async def test_no_request_id_means_every_call_runs() -> None:
    log, work = FakeRequestLog({}), Counter()
    for _ in range(2):
        await once(log, "", "Register", "k", Answer, work)
    assert work.runs == 2 and log.rows == {}


def test_the_fingerprint_ignores_the_request_id_and_what_is_left_out() -> None:
    ada = Register("r1", "ada@example.test", "secret one")
    assert fingerprint_of(ada) == fingerprint_of(Register("r2", "ada@example.test", "secret one"))
    assert fingerprint_of(ada) != fingerprint_of(Register("r1", "bob@example.test", "secret one"))
    assert fingerprint_of(ada, leave_out=("password",)) == fingerprint_of(
        Register("r1", "ada@example.test", "secret two"), leave_out=("password",))
    assert fingerprint("a", 1) == fingerprint("a", 1) != fingerprint("a", 2)


def test_a_recorded_answer_keeps_its_method_and_fingerprint() -> None:
    assert Recorded("Register", "k", {"user_id": "u"}).response == {"user_id": "u"}
