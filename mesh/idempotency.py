"""request_id idempotency, with one meaning in every service (MESH.md, "Request ids").

A mutating RPC carries a request_id the client chose. The first call with an id does the
work and records, in the same transaction as its effect, the request's fingerprint and its
answer. A retry with the same request gets that first answer, from any instance, however
often; the same id with a different request is INVALID_ARGUMENT naming `request_id`. Two
copies of one request at the same time serialise on the log's row: one does the work, the
other waits for its commit and replays it. An empty request_id means "no retry protection".

    async with uow:
        result = await idempotency.once(uow.requests, cmd.request_id, "PublishVideo",
                                        idempotency.fingerprint_of(cmd), Versioned, work)
        await uow.commit()

The fingerprint is a hash of what the request asked for; never put a secret in it (users'
Register leaves the password out). The log is pruned after VIDMESH_RETENTION_SECONDS
(mesh/retention.py): a retry later than that is a new request.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from mesh.errors import InvalidArgument

R = TypeVar("R")
REUSED = "was already used for a different request (request_id.reused)"


@dataclass(frozen=True)
class Recorded:
    """What the log holds for a request_id that was applied already."""

    method: str
    fingerprint: str
    response: dict[str, Any]


class RequestLog(Protocol):
    """The request_id log, bound to the transaction of the command's effect."""

    async def claim(self, request_id: str, method: str, fingerprint: str) -> Recorded | None:
        """Take the id for this transaction; None when it is new, else what the first got."""

    async def complete(self, request_id: str, response: dict[str, Any]) -> None:
        """Record the answer of the claimed id (in the same transaction)."""


def fingerprint(*parts: object) -> str:
    """A hash of the parts of a request that decide its effect (never a secret)."""
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


def fingerprint_of(command: object, *, leave_out: tuple[str, ...] = ()) -> str:
    """The fingerprint of a command dataclass: every field but request_id and `leave_out`."""
    fields = dataclasses.asdict(command)  # type: ignore[call-overload]
    return fingerprint(sorted((k, v) for k, v in fields.items() if k not in ("request_id", *leave_out)))


def replay(recorded: Recorded, method: str, key: str, result_type: Callable[..., R]) -> R:
    """The first answer to a request_id, if this request is the one it answered; else
    INVALID_ARGUMENT naming `request_id`."""
    if (recorded.method, recorded.fingerprint) != (method, key):
        raise InvalidArgument("request_id", REUSED)
    return result_type(**recorded.response)


async def once(log: RequestLog, request_id: str, method: str, key: str, result_type: Callable[..., R],
               work: Callable[[], Awaitable[R]]) -> R:
    """Run `work` once per request_id, or give back the answer of the first run."""
    if not request_id:
        return await work()
    recorded = await log.claim(request_id, method, key)
    if recorded is not None:
        return replay(recorded, method, key, result_type)
    result = await work()
    await log.complete(request_id, dataclasses.asdict(result))  # type: ignore[call-overload]
    return result


class PostgresRequestLog:
    """The log in the service's own `request_log` table (mesh migration mesh_0003)."""

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self._conn = conn

    async def claim(self, request_id: str, method: str, fingerprint: str) -> Recorded | None:
        """INSERT, or wait for a concurrent claimer's commit and read what it recorded."""
        cursor = await self._conn.execute(
            "INSERT INTO request_log (request_id, method, fingerprint) VALUES (%s, %s, %s) "
            "ON CONFLICT (request_id) DO NOTHING", (request_id, method, fingerprint))
        if cursor.rowcount == 1:
            return None
        row = await (await self._conn.execute(
            "SELECT method, fingerprint, response FROM request_log WHERE request_id = %s", (request_id,))).fetchone()
        if row is None:  # pruned between the two statements: it is new again
            return await self.claim(request_id, method, fingerprint)
        return Recorded(row[0], row[1], row[2] or {})

    async def complete(self, request_id: str, response: dict[str, Any]) -> None:
        """Store the answer next to the claim."""
        await self._conn.execute("UPDATE request_log SET response = %s WHERE request_id = %s",
                                 (Jsonb(response), request_id))
