"""The Transport over SMTP (stdlib smtplib, in a worker thread), and the MIME rendering."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from mesh import tracing
from services.email.domain import Email
from services.email.ports import PermanentFailure, TemporaryFailure, Transport


def to_message(email: Email, sender: str) -> EmailMessage:
    """The MIME message for an email; its Message-ID is derived from the event that caused it."""
    if email.to_address is None:
        raise ValueError(f"email {email.email_id} has no address yet")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Message-ID"] = email.message_id
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["X-Vidmesh-Email-Kind"] = email.kind.value
    message.set_content(email.body)
    return message


class SmtpTransport(Transport):
    """One SMTP session per email: simple, and nothing to keep alive between quiet periods."""

    def __init__(self, host: str, port: int, sender: str, timeout: float = 10.0) -> None:
        self._host, self._port, self._sender, self._timeout = host, port, sender, timeout

    async def send(self, email: Email) -> None:
        """Deliver in a span of the trace that queued the email (a failure marks the span failed)."""
        attributes: dict[str, AttributeValue] = {
            "server.address": self._host, "server.port": self._port, "vidmesh.email.kind": email.kind.value,
            "vidmesh.email.message_id": email.message_id}
        with tracing.tracer().start_as_current_span("smtp send", context=tracing.context_from(email.traceparent),
                                                    kind=SpanKind.CLIENT, attributes=attributes):
            try:
                message = to_message(email, self._sender)
            except (ValueError, TypeError) as error:  # e.g. an address the email package cannot write
                raise PermanentFailure(f"cannot render email: {error}") from error
            await asyncio.to_thread(self._deliver, message)

    def _deliver(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as client:
                client.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise _failure(min(codes, default=0), f"recipient refused: {codes}") from error
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:  # refused this email
            raise _failure(error.smtp_code, f"{error.smtp_code} {error.smtp_error!r}") from error
        except smtplib.SMTPNotSupportedError as error:  # e.g. a non-ASCII address, no SMTPUTF8
            raise PermanentFailure(str(error)) from error
        except (OSError, smtplib.SMTPException) as error:  # unreachable, timed out, disconnected, busy
            raise TemporaryFailure(f"{self._host}:{self._port}: {error!r}") from error


def _failure(code: int, detail: str) -> TemporaryFailure | PermanentFailure:
    # 5xx: this email will never be accepted; 4xx (and anything odd): try again later.
    return PermanentFailure(detail) if 500 <= code < 600 else TemporaryFailure(detail)
