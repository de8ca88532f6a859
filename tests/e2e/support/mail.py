"""The SMTP sink's Maildir: the mails the email service really sent."""

from __future__ import annotations

from email.message import Message
from email.parser import BytesHeaderParser
from pathlib import Path


class Mailbox:
    """Reads the Maildir's messages, parsing each file's headers once however often it is searched."""

    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self._parsed: dict[str, Message] = {}

    def matching(self, to: str, subject: str) -> list[Message]:
        """Every message whose To is `to` and whose Subject is `subject`."""
        self._refresh()
        return [m for m in self._parsed.values() if m.get("To") == to and m.get("Subject") == subject]

    def _refresh(self) -> None:
        parser = BytesHeaderParser()
        for folder in ("new", "cur"):
            for path in (self.maildir / folder).iterdir():
                if path.name not in self._parsed:
                    self._parsed[path.name] = parser.parsebytes(path.read_bytes())
