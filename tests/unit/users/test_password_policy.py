"""The password policy and registration rules beyond what the proto checks."""

from __future__ import annotations

import pytest

from mesh.errors import InvalidArgument
from services.users import domain


def rules_broken(password: str, email: str = "ann@example.com") -> list[str]:
    return [v.description for v in domain.password_violations(password, email)]


def test_a_password_with_a_letter_and_a_digit_passes() -> None:
    assert rules_broken("correct horse 7") == []


@pytest.mark.parametrize(("password", "rule"), [
    ("12345678", "password.letter"),
    ("onlyletters", "password.digit"),
    ("ANN@example.COM", "password.not_email"),
    ("ann", "password.not_email"),
])
def test_each_broken_rule_is_named(password: str, rule: str) -> None:
    assert any(rule in description for description in rules_broken(password, "Ann@Example.com"))


def test_a_password_like_the_email_name_part_is_refused_whatever_its_case() -> None:
    assert rules_broken("Ann2024x", "ann2024x@example.com") == [
        "must not be the email address or its part before the @ (password.not_email)"]


def test_every_broken_rule_is_reported_not_just_the_first() -> None:
    with pytest.raises(InvalidArgument) as caught:
        domain.check_new_account("ann@example.com", "--------", "   ")
    fields = [(v.field, v.description.rsplit("(", 1)[1]) for v in caught.value.violations]
    assert fields == [("password", "password.letter)"), ("password", "password.digit)"),
                      ("display_name", "display_name.not_blank)")]


def test_emails_are_normalised_to_lower_case() -> None:
    assert domain.normalise_email(" Ann@Example.COM ") == "ann@example.com"
    assert domain.Account.new("Ann@Example.COM", " Ann ", "hash").email == "ann@example.com"


def test_following_your_own_channel_is_invalid() -> None:
    with pytest.raises(InvalidArgument) as caught:
        domain.check_follow("u1", "u1")
    assert caught.value.violations[0].field == "channel_id"
    domain.check_follow("u1", "u2")
