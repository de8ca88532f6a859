"""The users domain: accounts, the password policy and the follow graph, in plain Python.

Nothing here knows about gRPC, SQL or Kafka. The proto already checks shapes (a valid email,
8 to 128 characters of password, 1 to 64 of display name); the rules below are the ones a
schema cannot say.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mesh.errors import FieldViolation, InvalidArgument


@dataclass(frozen=True)
class PasswordRule:
    """One rule of the password policy; `name` is what a client sees in the field violation."""

    name: str
    description: str
    broken: Callable[[str, str], bool]  # (password, normalised email) -> True when broken


def _local_part(email: str) -> str:
    return email.partition("@")[0]


PASSWORD_RULES: tuple[PasswordRule, ...] = (
    PasswordRule("password.letter", "must contain at least one letter",
                 lambda password, _: not any(c.isalpha() for c in password)),
    PasswordRule("password.digit", "must contain at least one digit",
                 lambda password, _: not any(c.isdigit() for c in password)),
    PasswordRule("password.not_email", "must not be the email address or its part before the @",
                 lambda password, email: password.strip().lower() in {email, _local_part(email)}),
)


def normalise_email(email: str) -> str:
    """The form an email is stored and looked up in: addresses are unique regardless of case."""
    return email.strip().lower()


def password_violations(password: str, email: str) -> list[FieldViolation]:
    """Every policy rule the password breaks, each description naming its rule."""
    normalised = normalise_email(email)
    return [
        FieldViolation("password", f"{rule.description} ({rule.name})")
        for rule in PASSWORD_RULES
        if rule.broken(password, normalised)
    ]


def check_new_account(email: str, password: str, display_name: str) -> None:
    """Raise InvalidArgument naming every broken rule of a registration."""
    found = password_violations(password, email)
    if not display_name.strip():
        found.append(FieldViolation("display_name", "must not be blank (display_name.not_blank)"))
    if found:
        raise InvalidArgument.of(found)


def check_follow(follower_id: str, channel_id: str) -> None:
    """A user may follow any channel but their own."""
    if follower_id == channel_id:
        raise InvalidArgument("channel_id", "a user cannot follow their own channel (follow.not_self)")


@dataclass(frozen=True)
class Account:
    """An account as it is created and signed in to: the only place the password hash lives."""

    user_id: str
    email: str
    display_name: str
    password_hash: str
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def new(cls, email: str, display_name: str, password_hash: str) -> Account:
        """A fresh account with a new id; the email is stored normalised."""
        return cls(str(uuid.uuid4()), normalise_email(email), display_name.strip(), password_hash)


@dataclass(frozen=True)
class Profile:
    """The public side of an account; a channel's follower count goes with it."""

    user_id: str
    display_name: str
    created_at: datetime
    follower_count: int


# Events: past tense, the same field names as their vidmesh.users.v1 payloads.


@dataclass(frozen=True)
class UserRegistered:
    """An account was created."""

    user_id: str
    email: str
    display_name: str

    @property
    def aggregate_id(self) -> str:
        """Events of one user stay in order: keyed by the user id."""
        return self.user_id


@dataclass(frozen=True)
class UserFollowed:
    """A user started following a channel; the count is the channel's audience afterwards."""

    follower_id: str
    channel_id: str
    follower_display_name: str
    follower_count: int

    @property
    def aggregate_id(self) -> str:
        """Changes to one channel's audience stay in order: keyed by the channel id."""
        return self.channel_id


@dataclass(frozen=True)
class UserUnfollowed:
    """A user stopped following a channel; the count is the channel's audience afterwards."""

    follower_id: str
    channel_id: str
    follower_count: int

    @property
    def aggregate_id(self) -> str:
        """Changes to one channel's audience stay in order: keyed by the channel id."""
        return self.channel_id


Event = UserRegistered | UserFollowed | UserUnfollowed
