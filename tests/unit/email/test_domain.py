"""Which events make an email and what it says; the MIME message the transport sends."""

from __future__ import annotations

import uuid

import pytest

from services.email import domain
from services.email.adapters.smtp import to_message
from services.email.domain import Kind

USER, VIDEO, EVENT = (str(uuid.uuid4()) for _ in range(3))
NEW_VIDEO = "NOTIFICATION_KIND_VIDEO_PUBLISHED"


def test_welcome_greets_the_user_by_name() -> None:
    email = domain.welcome(EVENT, user_id=USER, address="ada@example.test", display_name="Ada")
    assert (email.kind, email.to_address, email.recipient_id) == (Kind.WELCOME, "ada@example.test", USER)
    assert email.subject == "Welcome to vidmesh, Ada"
    assert email.body.startswith("Hi Ada,\n")


def test_new_video_notification_becomes_an_email_with_its_text_and_link() -> None:
    email = domain.for_notification(EVENT, recipient_id=USER, address="b@example.test", kind=NEW_VIDEO,
                                    text="Ada published a new video: Cats", video_id=VIDEO)
    assert email is not None and email.kind is Kind.NOTIFICATION
    assert email.subject == "Ada published a new video: Cats"
    assert f"/videos/{VIDEO}" in email.body


@pytest.mark.parametrize("kind", ["NOTIFICATION_KIND_COMMENT_ADDED", "NOTIFICATION_KIND_VIDEO_LIKED",
                                  "NOTIFICATION_KIND_NEW_FOLLOWER"])
def test_other_notification_kinds_are_not_emailed(kind: str) -> None:
    assert domain.for_notification(EVENT, recipient_id=USER, address="b@example.test", kind=kind, text="x",
                                   video_id="") is None


def test_email_without_a_known_address_waits_for_one() -> None:
    email = domain.for_notification(EVENT, recipient_id=USER, address=None, kind=NEW_VIDEO, text="x", video_id="")
    assert email is not None and email.to_address is None


def test_ids_and_message_id_come_from_the_event() -> None:
    first = domain.welcome(EVENT, user_id=USER, address="a@example.test", display_name="A")
    again = domain.welcome(EVENT, user_id=USER, address="a@example.test", display_name="A")
    other = domain.welcome(str(uuid.uuid4()), user_id=USER, address="a@example.test", display_name="A")
    assert (first.email_id, first.message_id) == (again.email_id, again.message_id)
    assert first.email_id != other.email_id and first.message_id != other.message_id
    assert first.message_id == f"<{EVENT}@{domain.MESSAGE_ID_DOMAIN}>"


def test_user_input_cannot_add_header_lines() -> None:
    email = domain.welcome(EVENT, user_id=USER, address="a@example.test", display_name="Eve\r\nBcc: x@evil.test")
    assert "\n" not in email.subject and "\r" not in email.subject
    message = to_message(email, "vidmesh <no-reply@vidmesh.local>")
    assert message["Bcc"] is None


def test_mime_message_carries_the_event_message_id() -> None:
    email = domain.welcome(EVENT, user_id=USER, address="ada@example.test", display_name="Ada")
    message = to_message(email, "vidmesh <no-reply@vidmesh.local>")
    assert message["Message-ID"] == f"<{EVENT}@{domain.MESSAGE_ID_DOMAIN}>"
    assert (message["To"], message["Subject"]) == ("ada@example.test", "Welcome to vidmesh, Ada")
    assert message.get_content().startswith("Hi Ada,")


def test_an_email_without_address_cannot_be_rendered() -> None:
    email = domain.for_notification(EVENT, recipient_id=USER, address=None, kind=NEW_VIDEO, text="x", video_id="")
    assert email is not None
    with pytest.raises(ValueError, match="no address"):
        to_message(email, "vidmesh <no-reply@vidmesh.local>")
