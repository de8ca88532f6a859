"""Which events deserve an email, and what it says. No SMTP, no storage.

One event makes at most one email, and everything that identifies it is derived from the
event id: the email's id and its Message-ID header. A redelivered event therefore names the
same email (the store keeps one per event), and in the one window where a mail could go out
twice (the server accepted it, the process died before recording that) both copies carry
the same Message-ID, so the duplicate is detectable downstream.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

# Fixed forever: an event's email id must not change between deliveries.
NAMESPACE = uuid.UUID("9d7f0c2a-6b1e-4f3a-8c5d-7e2a1b0f4c93")
MESSAGE_ID_DOMAIN = "email.vidmesh.local"
MAX_SUBJECT = 200
# NotificationCreated kinds (the NotificationKind enum names) that are worth an email: a
# new video from a followed channel. Likes, comments and followers stay in the inbox.
EMAILED_NOTIFICATION_KINDS = frozenset({"NOTIFICATION_KIND_VIDEO_PUBLISHED"})


class Kind(enum.Enum):
    """Why an email was sent (stored as the value)."""

    WELCOME = "welcome"
    NOTIFICATION = "notification"


@dataclass(frozen=True)
class Email:
    """An email to send. `to_address` is None while the recipient's address is not known yet."""

    email_id: str
    kind: Kind
    recipient_id: str
    to_address: str | None
    subject: str
    body: str
    source_event_id: str
    traceparent: str = ""  # the trace of the event that queued it, where its sending is a span

    @property
    def message_id(self) -> str:
        """The Message-ID header: the same for every attempt to send this email."""
        return message_id(self.source_event_id)


@dataclass(frozen=True)
class SentEmail:
    """The record of an email the mail server accepted."""

    email_id: str
    kind: Kind
    recipient_id: str
    to_address: str
    subject: str
    body: str
    source_event_id: str
    send_time: datetime


def email_id(event_id: str) -> str:
    """The id of the email an event causes."""
    return str(uuid.uuid5(NAMESPACE, event_id))


def message_id(event_id: str) -> str:
    """The RFC 5322 Message-ID of the email an event causes."""
    return f"<{event_id}@{MESSAGE_ID_DOMAIN}>"


def welcome(event_id: str, *, user_id: str, address: str, display_name: str) -> Email:
    """The welcome email after a registration."""
    name = _one_line(display_name)
    body = (f"Hi {name},\n\n"
            "your vidmesh account is ready. Follow channels you like and we will tell you\n"
            "when they publish something new.\n\n"
            "-- vidmesh\n")
    return Email(email_id(event_id), Kind.WELCOME, user_id, address, _subject(f"Welcome to vidmesh, {name}"), body,
                 event_id)


def for_notification(event_id: str, *, recipient_id: str, address: str | None, kind: str, text: str,
                     video_id: str) -> Email | None:
    """The email for a NotificationCreated, or None if its kind is not emailed.

    `address` may be None: the email is kept until the recipient's address arrives.
    """
    if kind not in EMAILED_NOTIFICATION_KINDS:
        return None
    link = f"\nWatch it: /videos/{video_id}\n" if video_id else ""
    body = (f"Hello,\n\n{_one_line(text)}\n{link}\n"
            "You get this email because you follow this channel on vidmesh.\n\n"
            "-- vidmesh\n")
    return Email(email_id(event_id), Kind.NOTIFICATION, recipient_id, address, _subject(text), body, event_id)


def _subject(text: str) -> str:
    line = _one_line(text)
    return line if len(line) <= MAX_SUBJECT else line[: MAX_SUBJECT - 1] + "…"


def _one_line(text: str) -> str:
    # A newline in a header would end it (header injection); names and titles are user input.
    return " ".join(text.split())
