"""What the handlers and the dispatcher need from outside; adapters implement, tests fake."""

from __future__ import annotations

import abc
from collections.abc import Callable
from types import TracebackType
from typing import Self

from mesh.paging import Cursor
from services.email.domain import Email, SentEmail


class Store(abc.ABC):
    """The service's own data: its copy of addresses and every email, queued or sent."""

    @abc.abstractmethod
    async def remember_address(self, user_id: str, address: str, display_name: str) -> None:
        """Keep (or update) a user's address."""

    @abc.abstractmethod
    async def address_of(self, user_id: str) -> str | None:
        """A user's address, None if this service has not heard it yet."""

    @abc.abstractmethod
    async def queue(self, email: Email) -> bool:
        """Queue an email for sending; False (and no change) if its event queued one already."""

    @abc.abstractmethod
    async def address_waiting(self, user_id: str, address: str) -> int:
        """Give the user's emails that waited for an address this one; how many."""

    @abc.abstractmethod
    async def next_due(self) -> Email | None:
        """Claim the oldest queued email that has an address (locked until the transaction
        ends, skipped by other dispatchers meanwhile); None if there is none."""

    @abc.abstractmethod
    async def mark_sent(self, email_id: str) -> None:
        """Record that the mail server accepted the email, now."""

    @abc.abstractmethod
    async def mark_failed(self, email_id: str, error: str) -> None:
        """Record that the mail server refused the email for good; it is not retried."""

    @abc.abstractmethod
    async def page_sent(self, recipient_id: str | None, after: Cursor | None, limit: int) -> list[SentEmail]:
        """Up to `limit` sent emails older than `after` (to one recipient if given), newest first."""


class UnitOfWork(abc.ABC):
    """One transaction around the store: commit explicitly, anything else rolls back."""

    store: Store

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


class DeliveryError(Exception):
    """The mail server did not take the email."""


class TemporaryFailure(DeliveryError):
    """Worth retrying later: the server is down, busy, or answered 4xx."""


class PermanentFailure(DeliveryError):
    """Retrying will not help: the server answered 5xx for this email."""


class Transport(abc.ABC):
    """Hands an email to a mail server."""

    @abc.abstractmethod
    async def send(self, email: Email) -> None:
        """Return once the server accepted the email; TemporaryFailure or PermanentFailure if not."""


class Wakeup(abc.ABC):
    """Tells the dispatcher that an email may have become due."""

    @abc.abstractmethod
    async def wait(self, timeout: float) -> None:
        """Return when woken, or after `timeout` seconds at the latest."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release what waiting holds (a connection)."""
