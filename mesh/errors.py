"""Domain errors, and the one table that turns them into gRPC statuses.

Services raise these from their domain and handlers; the error classes know nothing of
gRPC. The server interceptor maps them with `to_grpc_status`, so every service answers
NOT_FOUND, ALREADY_EXISTS... the same way, and INVALID_ARGUMENT carries a
`google.rpc.BadRequest` naming each offending field (the gateway turns it into a 400 with
the fields). Any other exception is a bug: `internal_status` hides its details. `abort`
sends a status on a call that may have ended meanwhile (the interceptors and authz use it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

import grpc
import grpc.aio
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status


class DomainError(Exception):
    """An expected failure the caller can act on; its message is safe to show them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The addressed resource does not exist."""


class AlreadyExists(DomainError):
    """The resource to create exists already (e.g. an email already registered)."""


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""


class Unauthenticated(DomainError):
    """The caller could not be identified (bad credentials, missing or expired token)."""


class Conflict(DomainError):
    """Optimistic concurrency lost: the aggregate changed since the caller read it; retry."""


class FailedPrecondition(DomainError):
    """The system is not in a state where this is allowed (e.g. liking an unpublished video)."""


class ResourceExhausted(DomainError):
    """A quota or rate limit is used up."""


class Unavailable(DomainError):
    """A dependency is down for now; the call may succeed if retried later."""


@dataclass(frozen=True)
class FieldViolation:
    """One bad field: its path (`title`, `tags[2]`, `author.name`) and what is wrong."""

    field: str
    description: str

    def __str__(self) -> str:
        return f"{self.field}: {self.description}" if self.field else self.description


class InvalidArgument(DomainError):
    """The request is malformed; names every offending field."""

    def __init__(self, field: str, description: str, *more: FieldViolation) -> None:
        self.violations: tuple[FieldViolation, ...] = (FieldViolation(field, description), *more)
        super().__init__("; ".join(str(violation) for violation in self.violations))

    @classmethod
    def of(cls, violations: Iterable[FieldViolation]) -> InvalidArgument:
        """One error for several violations (at least one)."""
        first, *rest = violations
        return cls(first.field, first.description, *rest)


# The one place that decides which status code each kind of domain error gets. Subclasses
# (e.g. a service's `VideoNotFound(NotFound)`) inherit their base's code.
STATUS_CODES: dict[type[DomainError], grpc.StatusCode] = {
    NotFound: grpc.StatusCode.NOT_FOUND,
    AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    Conflict: grpc.StatusCode.ABORTED,
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
}


def status_code(error: DomainError) -> grpc.StatusCode:
    """The gRPC code for a domain error (its nearest mapped base class; a bare DomainError is
    FAILED_PRECONDITION, the generic "you cannot do this now")."""
    for cls in type(error).__mro__:
        code = STATUS_CODES.get(cls)
        if code is not None:
            return code
    return grpc.StatusCode.FAILED_PRECONDITION


def to_rpc_status(error: DomainError) -> status_pb2.Status:
    """The rich `google.rpc.Status` for a domain error, with a BadRequest for InvalidArgument."""
    status = status_pb2.Status(code=status_code(error).value[0], message=error.message)
    if isinstance(error, InvalidArgument):
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in error.violations
            ]
        )
        detail = any_pb2.Any()
        detail.Pack(bad_request)
        status.details.append(detail)
    return status


def to_grpc_status(error: DomainError) -> grpc.Status:
    """The status to abort a call with: code, message and the rich status in the trailers."""
    return rpc_status.to_status(to_rpc_status(error))


def internal_status(trace_id: str | None) -> grpc.Status:
    """The status for a bug: a generic message (the details go to the log only), with the
    trace id so an operator can find that log line."""
    message = f"internal error (trace_id {trace_id})" if trace_id else "internal error"
    return rpc_status.to_status(status_pb2.Status(code=grpc.StatusCode.INTERNAL.value[0], message=message))


async def abort(context: grpc.aio.ServicerContext[Any, Any], code: grpc.StatusCode, details: str,
                trailing_metadata: tuple[tuple[str, str | bytes], ...] = ()) -> NoReturn:
    """`context.abort`, for a call that may have ended meanwhile.

    When the client's deadline passes (or it hangs up) just as we answer, grpc core has ended
    the call already and cannot send our status: abort raises ExecuteBatchError. Nobody is
    left to answer, so the call is ended as cancelled, which it is, and not logged as a bug."""
    try:
        await context.abort(code, details, trailing_metadata)
    except grpc.aio.InternalError as error:
        raise asyncio.CancelledError(f"the call ended before its {code.name} could be sent") from error
