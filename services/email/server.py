"""The gRPC face of the service (operators only): ListSentEmails.

Errors are raised as mesh.errors domain errors; mesh's interceptor turns them into statuses.
Request validation (protovalidate) has already run when a method is called.
"""

from __future__ import annotations

from typing import Any

import grpc.aio
from vidmesh.email.v1 import email_service_pb2 as pb
from vidmesh.email.v1 import email_service_pb2_grpc as pb_grpc

from mesh.server import Service
from services.email import handlers
from services.email.domain import Kind, SentEmail
from services.email.ports import UnitOfWorkFactory

Context = grpc.aio.ServicerContext[Any, Any]
KINDS: dict[Kind, pb.EmailKind.ValueType] = {Kind.WELCOME: pb.EMAIL_KIND_WELCOME,
                                              Kind.NOTIFICATION: pb.EMAIL_KIND_NOTIFICATION}


class EmailServicer(pb_grpc.EmailServiceServicer):
    """vidmesh.email.v1.EmailService."""

    def __init__(self, uows: UnitOfWorkFactory) -> None:
        self._uows = uows

    async def ListSentEmails(self, request: pb.ListSentEmailsRequest, context: Context) -> pb.ListSentEmailsResponse:
        page = await handlers.list_sent_emails(self._uows, handlers.ListQuery(
            request.page_size, request.page_token, request.recipient_id))
        return pb.ListSentEmailsResponse(emails=[sent_email(e) for e in page.emails],
                                         next_page_token=page.next_page_token)


def sent_email(e: SentEmail) -> pb.SentEmail:
    """A sent email as the API returns it."""
    message = pb.SentEmail(email_id=e.email_id, kind=KINDS[e.kind], recipient_id=e.recipient_id,
                           to_address=e.to_address, subject=e.subject, body=e.body, source_event_id=e.source_event_id)
    message.send_time.FromDatetime(e.send_time)
    return message


def service(uows: UnitOfWorkFactory) -> Service:
    """The service, ready for mesh.server.Server."""
    return Service(pb.DESCRIPTOR.services_by_name["EmailService"], EmailServicer(uows),
                   pb_grpc.add_EmailServiceServicer_to_server)
