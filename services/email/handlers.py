"""Events and requests → domain rules → store.

Event handlers only queue emails, inside the consumer's inbox transaction; the dispatcher
(dispatcher.py) sends them. Consuming never waits for SMTP, and a mail server outage holds
back mail, not events.

A NotificationCreated may arrive before the recipient's UserRegistered (they travel on
different topics, so nothing orders them): its email is queued without an address and goes
out as soon as the address arrives, instead of blocking the partition with retries.
"""

from __future__ import annotations

from dataclasses import dataclass

from vidmesh.notification.v1.events_pb2 import NotificationCreated
from vidmesh.notification.v1.notification_pb2 import NotificationKind
from vidmesh.users.v1.events_pb2 import UserRegistered

from mesh import paging
from services.email import domain
from services.email.domain import SentEmail
from services.email.ports import Store, UnitOfWorkFactory

# --- events -------------------------------------------------------------------------------


async def on_user_registered(store: Store, event_id: str, event: UserRegistered) -> None:
    """Keep the address, release the user's emails that waited for it, queue a welcome."""
    await store.remember_address(event.user_id, event.email, event.display_name)
    await store.address_waiting(event.user_id, event.email)
    await store.queue(domain.welcome(event_id, user_id=event.user_id, address=event.email,
                                     display_name=event.display_name))


async def on_notification_created(store: Store, event_id: str, event: NotificationCreated) -> None:
    """Queue an email for the notification if its kind is emailed."""
    email = domain.for_notification(
        event_id, recipient_id=event.recipient_id, address=await store.address_of(event.recipient_id),
        kind=NotificationKind.Name(event.kind), text=event.text, video_id=event.video_id)
    if email is not None:
        await store.queue(email)  # one email per event: a second queue() of it changes nothing


# --- requests -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    """Which page of sent emails, optionally to one recipient."""

    page_size: int = 0
    page_token: str = ""
    recipient_id: str = ""

    @property
    def fingerprint(self) -> str:
        """What a page token must have been issued for."""
        return f"sent-emails|{self.recipient_id}"


@dataclass(frozen=True)
class Page:
    """One page of sent emails and the token of the next ("" on the last)."""

    emails: list[SentEmail]
    next_page_token: str


async def list_sent_emails(uows: UnitOfWorkFactory, query: ListQuery) -> Page:
    """A page of sent emails, newest first."""
    after, size = paging.decode(query.page_token, query.fingerprint), paging.page_size(query.page_size)
    async with uows() as uow:
        found = await uow.store.page_sent(query.recipient_id or None, after, size + 1)
    page, more = found[:size], len(found) > size
    last = page[-1] if page else None
    token = paging.encode(paging.Cursor(last.send_time, last.email_id), query.fingerprint) if more and last else ""
    return Page(page, token)
