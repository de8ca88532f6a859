"""What keeps the kit's own instance apart from the stack: a scratch database laid out like
the service's own, topics under a prefix of its own, and a Consul name (= consumer group) of
its own. The stack's processes, topics, groups and outboxes are never touched."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import psycopg
from confluent_kafka.admin import AdminClient
from psycopg import sql

from mesh import dbbootstrap, topology
from mesh.settings import Settings

ADMIN_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Isolation:
    """The names one own instance uses; `create()` and `drop()` make and remove what they name."""

    entry: topology.Service
    settings: Settings
    token: str

    @classmethod
    def new(cls, entry: topology.Service, settings: Settings) -> Isolation:
        """A fresh set of names for an instance of `entry`."""
        return cls(entry, settings, uuid.uuid4().hex[:8])

    @property
    def name(self) -> str:
        """Its VIDMESH_SERVICE_NAME: the Consul name and consumer group (nothing routes to it)."""
        return f"kit-{self.entry.name}-{self.token}"

    @property
    def topic_prefix(self) -> str:
        """Its VIDMESH_TOPIC_PREFIX."""
        return f"kit-{self.token}."

    @property
    def database_name(self) -> str:
        """The scratch database, in place of the service's own."""
        return f"kit_{self.entry.key}_{self.token}"

    def topics(self) -> list[str]:
        """Every topic this instance may create: its prefixed topics and its dead-letter topic."""
        names = {*self.entry.produces, *self.entry.consumes}
        return [*(self.topic_prefix + name for name in sorted(names)), f"{self.name}.dlq"]

    def database_url(self) -> str | None:
        """Its VIDMESH_DATABASE_URL: the service's role on the scratch database (None without one)."""
        database = self.entry.database
        if database is None:
            return None
        secret = quote(dbbootstrap.password(database.role), safe="")
        s = self.settings
        return f"postgresql://{database.role}:{secret}@{s.host}:{s.postgres_port}/{self.database_name}"

    async def create(self) -> None:
        """The scratch database: CONNECT for the service's role only, its schema owned by it."""
        if self.entry.database is not None:
            await asyncio.to_thread(self._create_database, self.entry.database)

    def _create_database(self, database: topology.Database) -> None:
        name, role = sql.Identifier(self.database_name), sql.Identifier(database.role)
        with psycopg.connect(dbbootstrap.superuser_dsn(self.settings), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(name))
            conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(name, role))
        with psycopg.connect(dbbootstrap.superuser_dsn(self.settings, self.database_name), autocommit=True) as conn:
            conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            conn.execute(sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(sql.Identifier(database.schema), role))

    async def drop(self) -> None:
        """Remove the scratch database, the topics and the consumer group."""
        if self.entry.database is not None:
            await asyncio.to_thread(self._drop_database)
        await asyncio.to_thread(self._drop_kafka)

    def _drop_database(self) -> None:
        with psycopg.connect(dbbootstrap.superuser_dsn(self.settings), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.database_name)))

    def _drop_kafka(self) -> None:
        admin = AdminClient({"bootstrap.servers": f"{self.settings.host}:{self.settings.kafka_port}"})
        existing = set(admin.list_topics(timeout=ADMIN_TIMEOUT_S).topics)
        doomed = [topic for topic in self.topics() if topic in existing]
        for future in admin.delete_topics(doomed, operation_timeout=ADMIN_TIMEOUT_S).values() if doomed else ():
            future.result(ADMIN_TIMEOUT_S)
        if self.entry.consumes:
            for future in admin.delete_consumer_groups([self.name], request_timeout=ADMIN_TIMEOUT_S).values():
                with contextlib.suppress(Exception):  # never joined, or already gone: nothing to remove
                    future.result(ADMIN_TIMEOUT_S)
