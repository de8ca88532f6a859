"""The viewer from `x-user-id`, request ids, and per-call deadline budgets."""

from __future__ import annotations

import uuid

import pytest

from bff.common import identity
from bff.common.deadlines import PART_S, READ_S, WRITE_S, Deadlines
from mesh import errors

USER = "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e"


def test_no_header_is_an_anonymous_viewer() -> None:
    assert identity.viewer([("traceparent", "00-abc")]) is None
    assert identity.viewer(None) is None


def test_header_is_the_viewer_in_canonical_form() -> None:
    assert identity.viewer([("x-user-id", USER.upper())]) == USER


@pytest.mark.parametrize("metadata", [
    [("x-user-id", "alice")],
    [("x-user-id", "")],
    [("x-user-id", USER), ("x-user-id", str(uuid.uuid4()))],
    [("x-user-id", USER.encode())],
])
def test_malformed_or_repeated_header_is_unauthenticated(metadata: list[tuple[str, object]]) -> None:
    with pytest.raises(errors.Unauthenticated):
        identity.viewer(metadata)


def test_writes_without_a_user_are_unauthenticated() -> None:
    with pytest.raises(errors.Unauthenticated, match="sign in"):
        identity.signed_in([])
    assert identity.signed_in([("x-user-id", USER)]) == USER


def test_client_request_id_is_kept_and_a_missing_one_is_made_fresh() -> None:
    given = str(uuid.uuid4())
    assert identity.request_id(given) == given
    first, second = identity.request_id(""), identity.request_id("")
    assert first != second
    assert str(uuid.UUID(first)) == first


def test_budgets_apply_outside_a_call() -> None:
    deadlines = Deadlines(time_left=lambda: None)
    assert (deadlines.read(), deadlines.part(), deadlines.write()) == (READ_S, PART_S, WRITE_S)


def test_budgets_are_cut_to_the_callers_remaining_time_less_a_reserve() -> None:
    deadlines = Deadlines(time_left=lambda: 0.5)
    assert deadlines.write() == pytest.approx(0.4)  # 0.1 s kept back to answer
    assert deadlines.part() == pytest.approx(0.4)
    assert Deadlines(time_left=lambda: 0.2).read() == pytest.approx(0.16)  # the reserve shrinks with the time


def test_a_spent_caller_deadline_gives_no_time_at_all() -> None:
    assert Deadlines(time_left=lambda: 0.0).read() == 0.0
