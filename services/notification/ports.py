"""What the handlers need from the outside world; adapters implement these, tests fake them."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from mesh.idempotency import RequestLog
from mesh.paging import Cursor
from services.notification.domain import NewNotification, Notification, Publication


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Cause:
    """The event being applied: its id, the trace to continue in the events it causes, and
    when it happened (its envelope's time), which orders follows and publications."""

    event_id: str
    traceparent: str = ""
    time: datetime = field(default_factory=_now)


class Store(abc.ABC):
    """The service's own data: its copy of who follows whom and of names, and the inboxes."""

    @abc.abstractmethod
    async def follow(self, follower_id: str, channel_id: str, since: datetime) -> None:
        """Record that follower_id follows channel_id from `since` on (idempotent)."""

    @abc.abstractmethod
    async def unfollow(self, follower_id: str, channel_id: str) -> None:
        """Forget that follower_id follows channel_id (idempotent)."""

    @abc.abstractmethod
    async def followers_of(self, channel_id: str, before: datetime) -> list[str]:
        """The ids of the channel's followers who followed it before `before`."""

    @abc.abstractmethod
    async def remember_publication(self, publication: Publication) -> None:
        """Keep a publication (idempotent)."""

    @abc.abstractmethod
    async def publications_of(self, channel_id: str, after: datetime) -> list[Publication]:
        """The channel's publications later than `after`, oldest first."""

    @abc.abstractmethod
    async def remember_name(self, user_id: str, display_name: str) -> None:
        """Keep (or update) a user's display name for notification texts."""

    @abc.abstractmethod
    async def name_of(self, user_id: str) -> str | None:
        """A user's display name, None if this service has not heard it."""

    @abc.abstractmethod
    async def add(self, notification: NewNotification) -> bool:
        """Add a notification; False (and no change) if it is there already."""

    @abc.abstractmethod
    async def page(self, user_id: str, unread_only: bool, after: Cursor | None, limit: int) -> list[Notification]:
        """Up to `limit` of the user's notifications older than `after`, newest first."""

    @abc.abstractmethod
    async def unread_count(self, user_id: str) -> int:
        """How many of the user's notifications are unread."""

    @abc.abstractmethod
    async def mark_read(self, user_id: str, notification_ids: Sequence[str] | None) -> int:
        """Mark the user's unread notifications among `notification_ids` (all when None) read;
        how many changed. Other users' notifications are never touched."""


class Publisher(abc.ABC):
    """Where notification.v1 events go, in the same transaction as the notification."""

    @abc.abstractmethod
    async def notification_created(self, notification: NewNotification, cause: Cause) -> None:
        """Publish NotificationCreated for a notification just added."""


class UnitOfWork(abc.ABC):
    """One transaction around the store and the request_id log: commit explicitly, anything
    else rolls back."""

    store: Store
    requests: RequestLog  # mesh.idempotency's request_id log, in this transaction

    @abc.abstractmethod
    async def __aenter__(self) -> Self:
        """Begin."""

    @abc.abstractmethod
    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        """Roll back whatever was not committed."""

    @abc.abstractmethod
    async def commit(self) -> None:
        """Make the changes durable."""


UnitOfWorkFactory = Callable[[], UnitOfWork]
