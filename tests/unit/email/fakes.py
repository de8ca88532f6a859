"""In-memory adapters for the email ports (they subclass the ports; nothing is patched)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from mesh.paging import Cursor
from services.email.domain import Email, SentEmail
from services.email.ports import DeliveryError, Store, Transport, UnitOfWork, Wakeup

EPOCH = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass
class FakeStore(Store):
    addresses: dict[str, str] = field(default_factory=dict)
    emails: dict[str, Email] = field(default_factory=dict)  # by email id, in queue order
    status: dict[str, str] = field(default_factory=dict)
    sent: dict[str, SentEmail] = field(default_factory=dict)

    async def remember_address(self, user_id: str, address: str, display_name: str) -> None:
        self.addresses[user_id] = address

    async def address_of(self, user_id: str) -> str | None:
        return self.addresses.get(user_id)

    async def queue(self, email: Email) -> bool:
        if any(e.source_event_id == email.source_event_id for e in self.emails.values()):
            return False
        self.emails[email.email_id] = email
        self.status[email.email_id] = "queued"
        return True

    async def address_waiting(self, user_id: str, address: str) -> int:
        waiting = [e for e in self.emails.values() if e.recipient_id == user_id and e.to_address is None]
        for e in waiting:
            self.emails[e.email_id] = replace(e, to_address=address)
        return len(waiting)

    async def next_due(self) -> Email | None:
        return next((e for e in self.emails.values()
                     if self.status[e.email_id] == "queued" and e.to_address is not None), None)

    async def mark_sent(self, email_id: str) -> None:
        e = self.emails[email_id]
        assert e.to_address is not None
        self.status[email_id] = "sent"
        when = EPOCH + timedelta(seconds=len(self.sent))
        self.sent[email_id] = SentEmail(e.email_id, e.kind, e.recipient_id, e.to_address, e.subject, e.body,
                                        e.source_event_id, when)

    async def mark_failed(self, email_id: str, error: str) -> None:
        self.status[email_id] = "failed"

    async def page_sent(self, recipient_id: str | None, after: Cursor | None, limit: int) -> list[SentEmail]:
        rows = [s for s in self.sent.values() if recipient_id in (None, s.recipient_id)]
        rows.sort(key=lambda s: (s.send_time, s.email_id), reverse=True)
        if after is not None:
            rows = [s for s in rows if (s.send_time, s.email_id) < (after.time, after.id)]
        return rows[:limit]


class FakeUnitOfWork(UnitOfWork):
    """Shares one FakeStore; only committed sends count (a rollback is not modelled)."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        return None

    async def commit(self) -> None:
        return None


@dataclass
class FakeTransport(Transport):
    """Accepts everything, except while `failures` holds errors to raise first."""

    delivered: list[Email] = field(default_factory=list)
    failures: list[DeliveryError] = field(default_factory=list)

    async def send(self, email: Email) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append(email)


class NoWakeup(Wakeup):
    async def wait(self, timeout: float) -> None:
        return None

    async def close(self) -> None:
        return None


class PollingWakeup(Wakeup):
    """Never woken: each wait lasts its whole timeout, as with no NOTIFY at all."""

    async def wait(self, timeout: float) -> None:
        await asyncio.sleep(timeout)

    async def close(self) -> None:
        return None
