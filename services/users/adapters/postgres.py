"""The storage ports on Postgres (schema `users`), one transaction per unit of work."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from mesh import db
from mesh.idempotency import PostgresRequestLog
from services.users import domain, ports
from services.users.adapters import outbox
from services.users.domain import Account, Profile

Pool = AsyncConnectionPool[AsyncConnection[Any]]
PROFILE = "SELECT user_id, display_name, created_at, follower_count FROM accounts"


def _profile(row: tuple[Any, ...]) -> Profile:
    user_id, display_name, created_at, follower_count = row
    return Profile(str(user_id), display_name, created_at, follower_count)


class PostgresAccounts(ports.Accounts):
    """Accounts in the `accounts` table."""

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self.conn = conn

    async def add(self, account: Account) -> bool:
        """Insert; a taken email conflicts (waiting for a concurrent insert of it to end)."""
        cursor = await self.conn.execute(
            "INSERT INTO accounts (user_id, email, display_name, password_hash, created_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (email) DO NOTHING",
            (account.user_id, account.email, account.display_name, account.password_hash, account.created_at))
        return cursor.rowcount == 1

    async def by_email(self, email: str) -> Account | None:
        """The account of a normalised email."""
        cursor = await self.conn.execute(
            "SELECT user_id, email, display_name, password_hash, created_at FROM accounts WHERE email = %s", (email,))
        row = await cursor.fetchone()
        return Account(str(row[0]), *row[1:]) if row else None

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Replace the stored hash."""
        await self.conn.execute("UPDATE accounts SET password_hash = %s WHERE user_id = %s", (password_hash, user_id))

    async def profile(self, user_id: str) -> Profile | None:
        """One public profile."""
        row = await (await self.conn.execute(f"{PROFILE} WHERE user_id = %s", (user_id,))).fetchone()
        return _profile(row) if row else None

    async def profiles(self, user_ids: list[str]) -> list[Profile]:
        """The profiles found among the ids."""
        cursor = await self.conn.execute(f"{PROFILE} WHERE user_id = ANY(%s::uuid[])", (user_ids,))
        return [_profile(row) for row in await cursor.fetchall()]

    async def lock_channel(self, channel_id: str) -> Profile | None:
        """The channel row, locked. NO KEY UPDATE, not UPDATE: it serialises writers of the
        count but not the key-share locks that follows' foreign keys take, so two users
        following each other at the same moment do not deadlock."""
        cursor = await self.conn.execute(f"{PROFILE} WHERE user_id = %s FOR NO KEY UPDATE", (channel_id,))
        row = await cursor.fetchone()
        return _profile(row) if row else None

    async def add_followers(self, channel_id: str, delta: int) -> int:
        """Change the follower count; returns the new one."""
        cursor = await self.conn.execute(
            "UPDATE accounts SET follower_count = follower_count + %s WHERE user_id = %s RETURNING follower_count",
            (delta, channel_id))
        row = await cursor.fetchone()
        if row is None:
            raise LookupError(f"channel {channel_id} vanished inside its own transaction")
        return int(row[0])


class PostgresFollows(ports.Follows):
    """The follow graph in the `follows` table."""

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self.conn = conn

    async def add(self, follower_id: str, channel_id: str) -> bool:
        """Insert unless present."""
        cursor = await self.conn.execute(
            "INSERT INTO follows (follower_id, channel_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (follower_id, channel_id))
        return cursor.rowcount == 1

    async def remove(self, follower_id: str, channel_id: str) -> bool:
        """Delete if present."""
        cursor = await self.conn.execute(
            "DELETE FROM follows WHERE follower_id = %s AND channel_id = %s", (follower_id, channel_id))
        return cursor.rowcount == 1

    async def exists(self, follower_id: str, channel_id: str) -> bool:
        """Whether the follow is there."""
        cursor = await self.conn.execute(
            "SELECT 1 FROM follows WHERE follower_id = %s AND channel_id = %s", (follower_id, channel_id))
        return await cursor.fetchone() is not None


class PostgresUnitOfWork(db.PooledUnitOfWork, ports.UnitOfWork):
    """One transaction on a pooled connection (mesh.db): commit explicitly."""

    def bind(self, conn: AsyncConnection[Any]) -> None:
        self.accounts, self.follows = PostgresAccounts(conn), PostgresFollows(conn)
        self.requests = PostgresRequestLog(conn)

    async def publish(self, event: domain.Event) -> None:
        """Into the outbox, in this transaction."""
        await outbox.add(self.tx.conn, event)
