"""What the read models hold once the system has converged: plain data, read by observe.py
from the services and the mail sink, judged by the checker."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class Card:
    """A video as video-query serves it."""

    video_id: str
    owner_id: str
    title: str
    published: bool
    views: int
    likes: int
    comments: int


@dataclass(frozen=True, kw_only=True)
class Comment:
    """A comment as video-query lists it."""

    author_id: str
    body: str


@dataclass(frozen=True, kw_only=True)
class Notice:
    """A notification as the notification service lists it (kind without its prefix: VIDEO_PUBLISHED)."""

    notification_id: str
    kind: str
    video_id: str
    actor_id: str
    read: bool


@dataclass(frozen=True, kw_only=True)
class Sent:
    """An email as the email service recorded sending it (kind: WELCOME or NOTIFICATION)."""

    kind: str
    subject: str
    body: str


@dataclass(frozen=True, kw_only=True)
class Mail:
    """A message in the sink's Maildir: what really went out over SMTP."""

    to: str
    subject: str
    message_id: str


@dataclass(kw_only=True)
class Scope:
    """Which videos and users were read (a cycle reads what its ops touched; the end, everything)."""

    videos: set[str] = field(default_factory=set)
    owners: set[str] = field(default_factory=set)  # whose channels (drafts included) were listed
    users: set[str] = field(default_factory=set)  # whose notifications, sent emails, followers were read
    emails: set[str] = field(default_factory=set)  # the addresses whose mails in the Maildir were counted

    def add(self, other: Scope) -> None:
        """Widen this scope by another."""
        self.videos |= other.videos
        self.owners |= other.owners
        self.users |= other.users
        self.emails |= other.emails


@dataclass(kw_only=True)
class Observed:
    """Everything read, for the entities in `scope` (a missing key there means "not found")."""

    scope: Scope
    cards: dict[str, Card] = field(default_factory=dict)
    titles: dict[str, list[str]] = field(default_factory=dict)  # owner -> titles of all their videos
    comments: dict[str, list[Comment]] = field(default_factory=dict)
    followers: dict[str, int] = field(default_factory=dict)
    notices: dict[str, list[Notice]] = field(default_factory=dict)  # recipient -> notifications
    sent: dict[str, list[Sent]] = field(default_factory=dict)  # recipient -> emails the service sent
    mails: list[Mail] = field(default_factory=list)
    related: dict[str, dict[str, int]] | None = None  # video -> co-liked video -> score (None: no recommendations)

    def mails_to(self, address: str, subject_part: str) -> int:
        """How many messages in the Maildir went to `address` with `subject_part` in the subject."""
        return sum(1 for mail in self.mails if mail.to == address and subject_part in mail.subject)
