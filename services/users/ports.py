"""What the handlers need from storage, as abstract classes: Postgres implements them in
adapters/postgres.py, the unit tests with in-memory fakes that subclass them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType

from mesh.idempotency import RequestLog
from services.users.domain import Account, Event, Profile


class Accounts(ABC):
    """Accounts and their public profiles."""

    @abstractmethod
    async def add(self, account: Account) -> bool:
        """Insert the account; False (and nothing changed) when its email is taken."""

    @abstractmethod
    async def by_email(self, email: str) -> Account | None:
        """The account registered with this normalised email."""

    @abstractmethod
    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Replace the stored hash (after a rehash with stronger parameters)."""

    @abstractmethod
    async def profile(self, user_id: str) -> Profile | None:
        """One public profile."""

    @abstractmethod
    async def profiles(self, user_ids: list[str]) -> list[Profile]:
        """The profiles that exist among these ids, in any order."""

    @abstractmethod
    async def lock_channel(self, channel_id: str) -> Profile | None:
        """The channel's profile, locked until the end of the transaction so that changes to
        its audience (and their events) happen one after the other."""

    @abstractmethod
    async def add_followers(self, channel_id: str, delta: int) -> int:
        """Change the channel's follower count by delta; returns the new count."""


class Follows(ABC):
    """The follow graph."""

    @abstractmethod
    async def add(self, follower_id: str, channel_id: str) -> bool:
        """Record the follow; False when it existed already."""

    @abstractmethod
    async def remove(self, follower_id: str, channel_id: str) -> bool:
        """Delete the follow; False when there was none."""

    @abstractmethod
    async def exists(self, follower_id: str, channel_id: str) -> bool:
        """Whether follower_id follows channel_id."""


class UnitOfWork(ABC):
    """One transaction: `async with uow:` ... `await uow.commit()`; anything else rolls back."""

    accounts: Accounts
    follows: Follows
    requests: RequestLog  # mesh.idempotency's request_id log, in this transaction

    @abstractmethod
    async def publish(self, event: Event) -> None:
        """Queue an event to go out if, and only if, this transaction commits."""

    @abstractmethod
    async def commit(self) -> None:
        """Make the changes and queued events durable."""

    @abstractmethod
    async def __aenter__(self) -> UnitOfWork:
        """Begin the transaction."""

    @abstractmethod
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """End it: whatever was not committed is rolled back."""
