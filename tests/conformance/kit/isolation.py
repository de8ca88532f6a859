"""What keeps the kit's own instance apart from the stack: a scratch database laid out like
the service's own, topics under a prefix of its own, and a Consul name (= consumer group) of
its own. The stack's processes, topics, groups and outboxes are never touched."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from urllib.parse import quote

from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from mesh import dbbootstrap, topology
from mesh.settings import Settings
from tests.integration.scratch import scratch_database

ADMIN_TIMEOUT_S = 15.0


class Isolation:
    """The names one own instance uses; `create()` and `drop()` make and remove what they name."""

    def __init__(self, entry: topology.Service, settings: Settings) -> None:
        self.entry, self.settings = entry, settings
        self.token = uuid.uuid4().hex[:8]
        self._databases = contextlib.ExitStack()
        self._database_url: str | None = None

    @property
    def name(self) -> str:
        """Its VIDMESH_SERVICE_NAME: the Consul name and consumer group (nothing routes to it)."""
        return f"kit-{self.entry.name}-{self.token}"

    @property
    def topic_prefix(self) -> str:
        """Its VIDMESH_TOPIC_PREFIX."""
        return f"kit-{self.token}."

    def topics(self) -> list[str]:
        """Every topic this instance may create: its prefixed topics and its dead-letter topic."""
        names = {*self.entry.produces, *self.entry.consumes}
        return [*(self.topic_prefix + name for name in sorted(names)), f"{self.name}.dlq"]

    def database_url(self) -> str | None:
        """Its VIDMESH_DATABASE_URL (None without a database): the service's role on its scratch
        database, or, before `create()`, on one that does not exist (never the stack's own)."""
        database = self.entry.database
        if database is None:
            return None
        if self._database_url is not None:
            return self._database_url
        s, secret = self.settings, quote(dbbootstrap.password(database.role), safe="")
        return f"postgresql://{database.role}:{secret}@{s.host}:{s.postgres_port}/kit_absent_{self.token}"

    async def create(self) -> None:
        """The scratch database, laid out like the service's own (tests/integration/scratch.py),
        and the prefixed topics it consumes (so the kit can write to them whichever process
        creates topics; the broker creates none by itself)."""
        if self.entry.database is not None:
            database = scratch_database(self.settings, self.entry.database.role)
            self._database_url = await asyncio.to_thread(self._databases.enter_context, database)
        if self.entry.consumes:
            await asyncio.to_thread(self._create_topics)

    def _create_topics(self) -> None:
        admin = AdminClient({"bootstrap.servers": f"{self.settings.host}:{self.settings.kafka_port}"})
        wanted = [NewTopic(self.topic_prefix + name, num_partitions=topology.EVENT_PARTITIONS, replication_factor=1)
                  for name in sorted(self.entry.consumes)]
        for future in admin.create_topics(wanted, operation_timeout=ADMIN_TIMEOUT_S).values():
            future.result(ADMIN_TIMEOUT_S)

    async def drop(self) -> None:
        """Remove the scratch database, the topics and the consumer group."""
        await asyncio.to_thread(self._databases.close)
        await asyncio.to_thread(self._drop_kafka)

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
