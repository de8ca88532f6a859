"""Who is asking: the verified user id the gateway forwards in the `x-user-id` header.

The gateway verifies the JWT, strips any `x-user-id` the client sent and sets it to the
token's subject, so the header cannot be forged through the front door. The BFF copies it
into the domain request's actor_id / follower_id / viewer_id / user_id; it never takes a
user id from a request body.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from mesh import errors

USER_ID_HEADER = "x-user-id"


def viewer(metadata: Iterable[tuple[str, Any]] | None) -> str | None:
    """The signed-in user's id (a canonical UUID), or None for an anonymous caller.

    A header that is repeated or not a UUID is UNAUTHENTICATED: the gateway never sends
    one, so it means the caller did not come through the gateway.
    """
    values = [value for key, value in metadata or () if key.lower() == USER_ID_HEADER]
    if not values:
        return None
    if len(values) > 1 or not isinstance(values[0], str):
        raise errors.Unauthenticated(f"one {USER_ID_HEADER} header expected")
    try:
        return str(uuid.UUID(values[0]))
    except ValueError:
        raise errors.Unauthenticated(f"{USER_ID_HEADER} is not a user id") from None


def signed_in(metadata: Iterable[tuple[str, Any]] | None) -> str:
    """The signed-in user's id; UNAUTHENTICATED when the request carries none."""
    user_id = viewer(metadata)
    if user_id is None:
        raise errors.Unauthenticated("sign in first")
    return user_id


def request_id(given: str) -> str:
    """The client's request_id, or a fresh one: the client did not ask for retry safety."""
    return given or str(uuid.uuid4())
