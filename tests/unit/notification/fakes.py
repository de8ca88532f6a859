"""In-memory adapters for the notification ports (they subclass the ports; nothing is patched)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from mesh.idempotency import Recorded
from mesh.paging import Cursor
from services.notification.domain import NewNotification, Notification, Publication
from services.notification.ports import Cause, Publisher, Store, UnitOfWork
from tests.unit.fake_requests import FakeRequestLog

EPOCH = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass
class FakeStore(Store):
    follows: dict[tuple[str, str], datetime] = field(default_factory=dict)  # (follower, channel) -> since
    publications: dict[str, Publication] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    rows: dict[str, Notification] = field(default_factory=dict)
    keys: set[tuple[str, str]] = field(default_factory=set)  # the unique (event, recipient) key
    requests: dict[str, Recorded] = field(default_factory=dict)  # mesh.idempotency's log

    async def follow(self, follower_id: str, channel_id: str, since: datetime) -> None:
        self.follows.setdefault((follower_id, channel_id), since)

    async def unfollow(self, follower_id: str, channel_id: str) -> None:
        self.follows.pop((follower_id, channel_id), None)

    async def followers_of(self, channel_id: str, before: datetime) -> list[str]:
        return sorted(f for (f, c), since in self.follows.items() if c == channel_id and since < before)

    async def remember_publication(self, publication: Publication) -> None:
        self.publications.setdefault(publication.video_id, publication)

    async def publications_of(self, channel_id: str, after: datetime) -> list[Publication]:
        return sorted((p for p in self.publications.values() if p.owner_id == channel_id and p.published_at > after),
                      key=lambda p: (p.published_at, p.video_id))

    async def remember_name(self, user_id: str, display_name: str) -> None:
        self.names[user_id] = display_name

    async def name_of(self, user_id: str) -> str | None:
        return self.names.get(user_id)

    async def add(self, notification: NewNotification) -> bool:
        n = notification
        if (n.source_event_id, n.recipient_id) in self.keys or n.notification_id in self.rows:
            return False
        self.keys.add((n.source_event_id, n.recipient_id))
        # Each new notification a second younger than the last, so "newest first" is testable.
        created = EPOCH + timedelta(seconds=len(self.rows))
        self.rows[n.notification_id] = Notification(n.notification_id, n.recipient_id, n.kind, n.video_id,
                                                    n.actor_id, n.text, False, created)
        return True

    async def page(self, user_id: str, unread_only: bool, after: Cursor | None, limit: int) -> list[Notification]:
        mine = [n for n in self.rows.values() if n.recipient_id == user_id and not (unread_only and n.read)]
        mine.sort(key=lambda n: (n.create_time, n.notification_id), reverse=True)
        if after is not None:
            mine = [n for n in mine if (n.create_time, n.notification_id) < (after.time, after.id)]
        return mine[:limit]

    async def unread_count(self, user_id: str) -> int:
        return sum(1 for n in self.rows.values() if n.recipient_id == user_id and not n.read)

    async def mark_read(self, user_id: str, notification_ids: Sequence[str] | None) -> int:
        marked = 0
        for n in list(self.rows.values()):
            chosen = notification_ids is None or n.notification_id in notification_ids
            if chosen and n.recipient_id == user_id and not n.read:
                self.rows[n.notification_id] = replace(n, read=True)
                marked += 1
        return marked


@dataclass
class FakePublisher(Publisher):
    published: list[tuple[NewNotification, Cause]] = field(default_factory=list)

    async def notification_created(self, notification: NewNotification, cause: Cause) -> None:
        self.published.append((notification, cause))


class FakeUnitOfWork(UnitOfWork):
    """Shares one FakeStore; counts commits (a real rollback is not modelled)."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.requests = FakeRequestLog(store.requests)
        self.commits = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        return None

    async def commit(self) -> None:
        self.commits += 1
