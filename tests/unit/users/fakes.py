"""In-memory fakes of the users storage ports: each unit of work edits a copy of the state,
which replaces the shared state only on commit (so a rollback really throws changes away)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from types import TracebackType

from mesh.idempotency import Recorded
from services.users import ports
from services.users.domain import Account, Event, Profile
from tests.unit.fake_requests import FakeRequestLog


@dataclass
class State:
    """Everything the service stores, plus the events that went out."""

    accounts: dict[str, Account] = field(default_factory=dict)
    followers: dict[str, int] = field(default_factory=dict)
    follows: set[tuple[str, str]] = field(default_factory=set)
    requests: dict[str, Recorded] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


class FakeAccounts(ports.Accounts):
    def __init__(self, state: State) -> None:
        self.state = state

    async def add(self, account: Account) -> bool:
        if any(known.email == account.email for known in self.state.accounts.values()):
            return False
        self.state.accounts[account.user_id] = account
        self.state.followers[account.user_id] = 0
        return True

    async def by_email(self, email: str) -> Account | None:
        return next((a for a in self.state.accounts.values() if a.email == email), None)

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self.state.accounts[user_id] = replace(self.state.accounts[user_id], password_hash=password_hash)

    async def profile(self, user_id: str) -> Profile | None:
        account = self.state.accounts.get(user_id)
        if account is None:
            return None
        return Profile(user_id, account.display_name, account.created_at, self.state.followers[user_id])

    async def profiles(self, user_ids: list[str]) -> list[Profile]:
        return [p for user_id in reversed(user_ids) if (p := await self.profile(user_id)) is not None]

    async def lock_channel(self, channel_id: str) -> Profile | None:
        return await self.profile(channel_id)

    async def add_followers(self, channel_id: str, delta: int) -> int:
        self.state.followers[channel_id] += delta
        return self.state.followers[channel_id]


class FakeFollows(ports.Follows):
    def __init__(self, state: State) -> None:
        self.state = state

    async def add(self, follower_id: str, channel_id: str) -> bool:
        before = len(self.state.follows)
        self.state.follows.add((follower_id, channel_id))
        return len(self.state.follows) > before

    async def remove(self, follower_id: str, channel_id: str) -> bool:
        if (follower_id, channel_id) not in self.state.follows:
            return False
        self.state.follows.discard((follower_id, channel_id))
        return True

    async def exists(self, follower_id: str, channel_id: str) -> bool:
        return (follower_id, channel_id) in self.state.follows


class FakeUnitOfWork(ports.UnitOfWork):
    def __init__(self, shared: State) -> None:
        self.shared = shared

    async def __aenter__(self) -> FakeUnitOfWork:
        self.work = copy.deepcopy(self.shared)
        self.accounts, self.follows = FakeAccounts(self.work), FakeFollows(self.work)
        self.requests = FakeRequestLog(self.work.requests)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        del self.work  # uncommitted changes are gone

    async def publish(self, event: Event) -> None:
        self.work.events.append(event)

    async def commit(self) -> None:
        self.shared.__dict__.update(copy.deepcopy(self.work).__dict__)
