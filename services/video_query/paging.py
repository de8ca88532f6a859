"""Page tokens: opaque, signed keyset cursors that cannot be forged or moved to another query.

A token is `base64url(FORMAT || HMAC-SHA256(key, scope || 0x00 || body) || body)`, where
body is the JSON list of the last item's sort values and scope names the query (the RPC
and its filters, e.g. `SearchVideos|cats`). The scope is signed but not carried, so a
token issued for one query fails verification on another and tokens stay short however
long the query. Any change to a token makes it INVALID_ARGUMENT naming `page_token`.

The values only ever reach SQL as bound parameters of a fixed keyset condition; the
signature just makes sure nobody but this service chooses them. Every instance shares the
key (VIDMESH_PAGE_TOKEN_KEY), so a token from one instance works on the others.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from mesh.errors import InvalidArgument
from services.video_query.ports import Key

FORMAT = b"\x01"
MAC_BYTES = hashlib.sha256().digest_size
FIELD = "page_token"
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 100


def page_size(requested: int) -> int:
    """The proto's rule: 0 means 20, at most 100 (validation already refused more)."""
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


class PageTokens:
    """Issues and checks page tokens with one secret key."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the page token key must not be empty")
        self._key = key

    def issue(self, scope: str, key: Key | None) -> str:
        """The token for the page after `key`; "" when there is none (the last page)."""
        if key is None:
            return ""
        body = json.dumps(list(key), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(FORMAT + self._mac(scope, body) + body).decode().rstrip("=")

    def read(self, token: str, scope: str) -> Key | None:
        """The key a token carries; None for "" (the first page); InvalidArgument if forged."""
        if not token:
            return None
        raw = _decode(token)
        mac, body = raw[len(FORMAT):len(FORMAT) + MAC_BYTES], raw[len(FORMAT) + MAC_BYTES:]
        if not raw.startswith(FORMAT) or not hmac.compare_digest(mac, self._mac(scope, body)):
            raise InvalidArgument(FIELD, "not a page token this service issued for this query")
        values = json.loads(body)
        if not isinstance(values, list) or not all(isinstance(v, str | int | float) for v in values):
            raise InvalidArgument(FIELD, "malformed page token")
        return tuple(values)

    def _mac(self, scope: str, body: bytes) -> bytes:
        return hmac.new(self._key, scope.encode() + b"\x00" + body, hashlib.sha256).digest()


def _decode(token: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidArgument(FIELD, "not a page token this service issued") from exc
