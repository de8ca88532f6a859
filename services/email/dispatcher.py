"""Sends queued emails, one per transaction: claim the row, hand it to SMTP, mark it sent.

Why exactly one email per event, and where "exactly" ends:
- the consumer queues at most one email per event (unique source_event_id, plus the inbox);
- the row stays locked while it is being sent, so two dispatchers (two instances) never send
  the same email at the same time (`FOR UPDATE SKIP LOCKED`);
- it is marked sent in the same transaction, committed right after the server accepted it;
- if Postgres is lost between the server's acceptance and that commit (the chaos campaign
  found this: a killed Postgres made a second copy of the mail), the dispatcher remembers
  the email and marks it sent first thing once Postgres is back, before it sends anything.
The one window left is a crash of this process after the server accepted the mail and
before that commit (or, with several instances, another one taking the row first once
Postgres is back): the row is still queued and the mail goes out again. We chose that
(at least once) over marking before sending (at most once: a crash would lose the mail
silently). Both copies carry the same Message-ID (derived from the event id), so the
duplicate is detectable and mail clients and servers that dedupe by Message-ID drop it.
"""

from __future__ import annotations

import asyncio

import psycopg
import structlog
from psycopg_pool import PoolTimeout

from mesh.backoff import Backoff, pause
from services.email.ports import PermanentFailure, TemporaryFailure, Transport, UnitOfWorkFactory, Wakeup

log = structlog.get_logger(__name__)


class Dispatcher:
    """The sending loop: run() until stop(). The runtime supervises it as a worker that is not
    critical: while the mail server is away, mail waits in the queue and the API still answers."""

    def __init__(self, uows: UnitOfWorkFactory, transport: Transport, wakeup: Wakeup, *,
                 poll_interval: float = 1.0, max_backoff: float = 30.0) -> None:
        self._uows, self._transport, self._wakeup = uows, transport, wakeup
        self._poll_interval = poll_interval
        self._backoff = Backoff(initial=0.25, maximum=max_backoff)
        self._stopping = asyncio.Event()
        self.sent = self.failed = 0
        self._unmarked: list[str] = []  # accepted by the mail server; Postgres was lost before they were marked

    async def run(self) -> None:
        """Send what is due; wait for a wakeup (or poll_interval); back off while SMTP or Postgres fail."""
        try:
            while not self._stopping.is_set():
                try:
                    while not self._stopping.is_set() and await self.send_next():
                        pass
                    self._backoff.reset()
                except (TemporaryFailure, psycopg.OperationalError, PoolTimeout) as error:
                    delay = self._backoff.next()
                    log.warning("email delivery paused; mail waits in the queue", error=str(error), retry_in=delay)
                    await pause(self._stopping, delay)
                    continue
                await self._wakeup.wait(self._poll_interval)
        finally:
            await self._wakeup.close()

    async def stop(self) -> None:
        """Ask run() to return after the email in hand."""
        self._stopping.set()

    async def send_next(self) -> bool:
        """Send the oldest due email; False when none is due."""
        await self._mark_unmarked()
        async with self._uows() as uow:
            email = await uow.store.next_due()
            if email is None:
                return False
            try:
                await self._transport.send(email)
            except PermanentFailure as error:
                await uow.store.mark_failed(email.email_id, str(error))
                await uow.commit()
                self.failed += 1
                log.error("email refused", email_id=email.email_id, error=str(error))
                return True
            self._unmarked.append(email.email_id)  # it is out: from here on it must not go again
            await uow.store.mark_sent(email.email_id)
            await uow.commit()
            self._unmarked.remove(email.email_id)
        self.sent += 1
        log.info("email sent", email_id=email.email_id, kind=email.kind.value, message_id=email.message_id)
        return True

    async def _mark_unmarked(self) -> None:
        """Mark sent what the server accepted while the commit could not happen."""
        if not self._unmarked:
            return
        async with self._uows() as uow:
            for email_id in self._unmarked:
                await uow.store.mark_sent(email_id)
            await uow.commit()
        log.info("emails accepted while Postgres was away are marked sent, not sent again", email_ids=self._unmarked)
        self._unmarked.clear()
