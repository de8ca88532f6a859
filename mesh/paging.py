"""Keyset page tokens for list RPCs: where the previous page ended, bound to the query that made it.

A token is opaque to clients (base64 of a small JSON document) and carries a fingerprint
of the query, so a token replayed with another user or filter is refused rather than
silently paging through someone else's list.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from mesh.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 20


@dataclass(frozen=True)
class Cursor:
    """The last row of a page in (time, id) descending order."""

    time: datetime
    id: str


def page_size(requested: int) -> int:
    """The page size to use: 0 means the default (protovalidate already caps it)."""
    return requested or DEFAULT_PAGE_SIZE


def encode(cursor: Cursor, query: str) -> str:
    """The next_page_token for a page ending at `cursor` of `query`."""
    document = {"t": cursor.time.isoformat(), "i": cursor.id, "q": _fingerprint(query)}
    return base64.urlsafe_b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()


def decode(token: str, query: str) -> Cursor | None:
    """The cursor in `token` (None for the first page); InvalidArgument for a token not
    issued by this service for this query."""
    if not token:
        return None
    try:
        document = json.loads(base64.urlsafe_b64decode(token.encode()))
        if document["q"] != _fingerprint(query):
            raise ValueError("query mismatch")
        return Cursor(datetime.fromisoformat(document["t"]), str(uuid.UUID(document["i"])))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidArgument("page_token", "not a page token issued for this query") from None


def _fingerprint(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()[:16]
