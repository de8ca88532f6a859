"""The SMTP sink keeps every message it receives in a Maildir."""

from __future__ import annotations

import mailbox
import smtplib
import uuid
from email.message import EmailMessage

from mesh.settings import Settings
from scripts.devstack.stack import Stack


def test_sent_mail_lands_in_the_maildir(settings: Settings, stack: Stack) -> None:
    subject = f"hello {uuid.uuid4().hex}"
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "it@vidmesh.local", "user@vidmesh.local", subject
    message.set_content("welcome")
    with smtplib.SMTP(settings.host, settings.smtp_port, timeout=5) as client:
        client.send_message(message)
    subjects = [m["Subject"] for m in mailbox.Maildir(stack.layout.maildir, create=False)]
    assert subject in subjects
