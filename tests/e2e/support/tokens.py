"""Tokens signed with the users service's real key, with any expiry we like."""

from __future__ import annotations

import time

import jwt

from mesh.settings import Settings
from services.users.keys import KeyRing
from services.users.tokens import ALGORITHM, AUDIENCE, ISSUER


def signed_token(settings: Settings, user_id: str, expires_in_s: int, audience: str = AUDIENCE) -> str:
    """An access token exactly like the users service issues, signed with its current
    signing key from `<data_dir>/jwt`, expiring `expires_in_s` seconds from now (negative:
    already expired), for `audience`."""
    key = KeyRing(settings.data_dir / "jwt").signing_key()
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": audience, "sub": user_id, "iat": min(now, now + expires_in_s - 60),
              "exp": now + expires_in_s}
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
