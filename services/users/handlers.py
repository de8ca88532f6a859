"""Commands and queries of the users service, each handled by a small function.

A handler takes its command and the service's `Deps`, runs the domain rules inside one unit
of work and commits explicitly: the state change, the event in the outbox and the answer
recorded for its request_id (mesh.idempotency) commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mesh.errors import AlreadyExists, NotFound, Unauthenticated
from mesh.idempotency import fingerprint, fingerprint_of, once
from services.users import domain
from services.users.domain import Account, Profile
from services.users.passwords import PasswordHasher
from services.users.ports import UnitOfWork
from services.users.tokens import AccessToken, TokenIssuer

# One message for an unknown email and a wrong password, so a caller cannot tell them apart.
LOGIN_FAILED = "the email or the password is wrong"


@dataclass(frozen=True)
class Deps:
    """What every handler may use: a unit of work per call, the hasher and the token issuer.

    `reads` is a unit of work for reads alone, on autocommit connections: each statement is
    one round trip, with no BEGIN before it and no ROLLBACK after. Under READ COMMITTED a
    transaction gives a read no snapshot of its own anyway (each statement takes its own).
    """

    uow: Callable[[], UnitOfWork]
    hasher: PasswordHasher
    tokens: TokenIssuer
    reads: Callable[[], UnitOfWork]


@dataclass(frozen=True)
class Register:
    """Create an account (request_id may be empty: the route is public)."""

    request_id: str
    email: str
    password: str
    display_name: str


@dataclass(frozen=True)
class Login:
    """Check credentials and issue an access token."""

    email: str
    password: str


@dataclass(frozen=True)
class Follow:
    """follower_id starts following channel_id."""

    request_id: str
    follower_id: str
    channel_id: str


@dataclass(frozen=True)
class Unfollow:
    """follower_id stops following channel_id."""

    request_id: str
    follower_id: str
    channel_id: str


@dataclass(frozen=True)
class LoggedIn:
    """A successful login: who, and their token."""

    user_id: str
    token: AccessToken


@dataclass(frozen=True)
class Registered:
    """Register's answer, replayed to its retries."""

    user_id: str


@dataclass(frozen=True)
class Audience:
    """Follow's and Unfollow's answer: the channel's follower count afterwards."""

    follower_count: int


async def register(cmd: Register, deps: Deps) -> str:
    """Create the account and announce it; returns the new user id."""
    domain.check_new_account(cmd.email, cmd.password, cmd.display_name)
    # Hash before the transaction: a connection is not held through 100 ms of CPU.
    account = Account.new(cmd.email, cmd.display_name, await deps.hasher.hash(cmd.password))
    # What decides the effect, as stored: never the password (a secret does not go in a log).
    key = fingerprint(account.email, account.display_name)
    async with deps.uow() as uow:
        done = await once(uow.requests, cmd.request_id, "Register", key, Registered, lambda: _create(uow, account))
        await uow.commit()
    return done.user_id


async def _create(uow: UnitOfWork, account: Account) -> Registered:
    if not await uow.accounts.add(account):
        raise AlreadyExists("an account with this email already exists")
    await uow.publish(domain.UserRegistered(account.user_id, account.email, account.display_name))
    return Registered(account.user_id)


async def login(cmd: Login, deps: Deps) -> LoggedIn:
    """Check the password (as long for an unknown email as for a wrong password) and sign a token."""
    async with deps.reads() as uow:
        account = await uow.accounts.by_email(domain.normalise_email(cmd.email))
    matches = await deps.hasher.verify(account.password_hash if account else None, cmd.password)
    if account is None or not matches:
        raise Unauthenticated(LOGIN_FAILED)
    if deps.hasher.needs_rehash(account.password_hash):
        await _rehash(account.user_id, cmd.password, deps)
    return LoggedIn(account.user_id, deps.tokens.issue(account.user_id))


async def _rehash(user_id: str, password: str, deps: Deps) -> None:
    # The only moment the plain password is at hand to move an old hash to today's parameters.
    new_hash = await deps.hasher.hash(password)
    async with deps.uow() as uow:
        await uow.accounts.set_password_hash(user_id, new_hash)
        await uow.commit()


async def get_user(user_id: str, viewer_id: str, deps: Deps) -> tuple[Profile, bool]:
    """The profile and whether the viewer (if any) follows its channel."""
    async with deps.reads() as uow:
        profile = await uow.accounts.profile(user_id)
        if profile is None:
            raise NotFound(f"user {user_id} does not exist")
        follows = bool(viewer_id) and await uow.follows.exists(viewer_id, user_id)
    return profile, follows


async def batch_get_users(user_ids: list[str], deps: Deps) -> list[Profile]:
    """The profiles found, in the order asked for; unknown ids are left out."""
    async with deps.reads() as uow:
        found = {profile.user_id: profile for profile in await uow.accounts.profiles(user_ids)}
    return [found[user_id] for user_id in user_ids if user_id in found]


async def follow(cmd: Follow, deps: Deps) -> int:
    """Follow the channel (following again changes nothing); returns its follower count."""
    domain.check_follow(cmd.follower_id, cmd.channel_id)
    async with deps.uow() as uow:
        done = await once(uow.requests, cmd.request_id, "Follow", fingerprint_of(cmd), Audience,
                          lambda: _follow(uow, cmd))
        await uow.commit()
    return done.follower_count


async def _follow(uow: UnitOfWork, cmd: Follow) -> Audience:
    channel = await _locked_channel(uow, cmd.channel_id)
    follower = await uow.accounts.profile(cmd.follower_id)
    if follower is None:
        raise NotFound(f"user {cmd.follower_id} does not exist")
    count = channel.follower_count
    if await uow.follows.add(cmd.follower_id, cmd.channel_id):
        count = await uow.accounts.add_followers(cmd.channel_id, +1)
        await uow.publish(domain.UserFollowed(cmd.follower_id, cmd.channel_id, follower.display_name, count))
    return Audience(count)


async def unfollow(cmd: Unfollow, deps: Deps) -> int:
    """Stop following the channel (not following changes nothing); returns its follower count."""
    async with deps.uow() as uow:
        done = await once(uow.requests, cmd.request_id, "Unfollow", fingerprint_of(cmd), Audience,
                          lambda: _unfollow(uow, cmd))
        await uow.commit()
    return done.follower_count


async def _unfollow(uow: UnitOfWork, cmd: Unfollow) -> Audience:
    count = (await _locked_channel(uow, cmd.channel_id)).follower_count
    if await uow.follows.remove(cmd.follower_id, cmd.channel_id):
        count = await uow.accounts.add_followers(cmd.channel_id, -1)
        await uow.publish(domain.UserUnfollowed(cmd.follower_id, cmd.channel_id, count))
    return Audience(count)


async def _locked_channel(uow: UnitOfWork, channel_id: str) -> Profile:
    channel = await uow.accounts.lock_channel(channel_id)
    if channel is None:
        raise NotFound(f"channel {channel_id} does not exist")
    return channel
