"""The one place that decides what a failed downstream call does to a BFF answer.

A page has a core (the video of a video page, the trending list of the home page) and
optional parts (the uploader, comments, the unread count). A failed core call fails the
answer; a failed optional part is left empty and named in the answer's `degraded` field.

| downstream code                          | core call                     | optional part     |
|------------------------------------------|-------------------------------|-------------------|
| INVALID_ARGUMENT                         | INVALID_ARGUMENT + BadRequest | same as core      |
| NOT_FOUND, PERMISSION_DENIED, ABORTED,   | the same code, same message   | degraded          |
| ALREADY_EXISTS, FAILED_PRECONDITION,     |                               |                   |
| UNAUTHENTICATED                          |                               |                   |
| UNAVAILABLE, DEADLINE_EXCEEDED,          | UNAVAILABLE, naming the part  | degraded          |
| RESOURCE_EXHAUSTED, CANCELLED            |                               |                   |
| anything else (INTERNAL, UNKNOWN, ...)   | INTERNAL (a bug; logged)      | degraded (logged) |

INVALID_ARGUMENT of an optional part is not degraded: it means the client's input was wrong
(e.g. a page token from elsewhere), and hiding that would look like an empty page.
Everything is raised as a mesh.errors type, so mesh's interceptor turns it into the status
(and the BadRequest details) in its one table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc
import structlog
from google.rpc import error_details_pb2, status_pb2

from mesh import errors

T = TypeVar("T")
_log = structlog.get_logger(__name__)

PASSED_THROUGH: dict[grpc.StatusCode, Callable[[str], errors.DomainError]] = {
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.PERMISSION_DENIED: errors.PermissionDenied,
    grpc.StatusCode.ABORTED: errors.Conflict,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPrecondition,
    grpc.StatusCode.UNAUTHENTICATED: errors.Unauthenticated,
}
TRANSIENT = frozenset({
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.CANCELLED,
})


class DownstreamError(Exception):
    """A domain service answered a call with an error status, or not in time.

    `status` is the rich google.rpc.Status the service sent in its trailers, if any (it
    carries the BadRequest of an INVALID_ARGUMENT). Raised by the ports; an unmapped one
    that reaches the interceptor is reported as INTERNAL.
    """

    def __init__(self, service: str, code: grpc.StatusCode, message: str,
                 status: status_pb2.Status | None = None) -> None:
        super().__init__(f"{service}: {code.name}: {message}")
        self.service, self.code, self.message, self.status = service, code, message, status


class Degraded:
    """Collects the optional parts of one answer that could not be fetched."""

    def __init__(self) -> None:
        self._parts: set[str] = set()

    def add(self, part: str) -> None:
        """Name a part as missing from the answer."""
        self._parts.add(part)

    @property
    def names(self) -> list[str]:
        """The missing parts, sorted so the answer does not depend on which failed first."""
        return sorted(self._parts)


def translate(error: DownstreamError, part: str) -> Exception:
    """What a failed core call becomes for the BFF's caller (see the table above)."""
    if error.code == grpc.StatusCode.INVALID_ARGUMENT:
        return _invalid_argument(error)
    passed = PASSED_THROUGH.get(error.code)
    if passed is not None:
        return passed(error.message)
    if error.code in TRANSIENT:
        return errors.Unavailable(
            f"{part}: unavailable right now ({error.service} answered {error.code.name}); retry later")
    return error  # a bug downstream: the interceptor logs it and answers INTERNAL


def _invalid_argument(error: DownstreamError) -> errors.InvalidArgument:
    violations: list[errors.FieldViolation] = []
    for detail in error.status.details if error.status else ():
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):  # False for the other kinds of detail
            violations.extend(errors.FieldViolation(v.field, v.description) for v in bad_request.field_violations)
    return errors.InvalidArgument.of(violations) if violations else errors.InvalidArgument("", error.message)


async def core(part: str, call: Awaitable[T]) -> T:
    """The answer of a call the response cannot do without; its failure fails the response."""
    try:
        return await call
    except DownstreamError as error:
        raise translate(error, part) from error


async def optional(part: str, call: Awaitable[T], degraded: Degraded) -> T | None:
    """The answer of a call the response can do without: None, and `part` named in
    `degraded`, when it fails (but a wrong client input still fails the response)."""
    try:
        return await call
    except DownstreamError as error:
        if error.code == grpc.StatusCode.INVALID_ARGUMENT:
            raise translate(error, part) from error
        emit = _log.warning if error.code in TRANSIENT or error.code in PASSED_THROUGH else _log.error
        emit("part degraded", part=part, service=error.service, code=error.code.name, reason=error.message)
        degraded.add(part)
        return None
