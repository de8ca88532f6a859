"""Access tokens: ES256 JWTs signed with the newest key, and the JWKS that verifies them.

A token says who the user is (`sub`) to the gateway's jwt_authn filter, which checks
`iss`, `aud`, `exp` and the signature against the keys of GetJwks, found by `kid`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import jwt
import structlog
from jwt.algorithms import ECAlgorithm

from mesh.errors import Unavailable
from services.users.keys import KeyRing, KeysUnavailable, SigningKey

ISSUER = "vidmesh-users"
AUDIENCE = "vidmesh"
ALGORITHM = "ES256"
TOKEN_TTL_S = 3600
_log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class AccessToken:
    """A signed token and how many seconds it is valid for."""

    token: str
    expires_in: int


T = TypeVar("T")


class TokenIssuer:
    """Signs access tokens and publishes the keys that verify them."""

    def __init__(self, keyring: KeyRing, ttl_s: int = TOKEN_TTL_S, clock: Callable[[], float] = time.time) -> None:
        self.keyring, self.ttl_s, self._clock = keyring, ttl_s, clock

    def issue(self, user_id: str) -> AccessToken:
        """A token for this user, signed with the keyring's signing key (see KeyRing)."""
        key = self._signing_key()
        now = int(self._clock())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": user_id, "iat": now, "exp": now + self.ttl_s}
        token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
        return AccessToken(token, self.ttl_s)

    async def can_sign(self) -> bool:
        """A readiness check: True while a signing key loads, else KeysUnavailable saying why."""
        self.keyring.signing_key()
        return True

    def jwks(self) -> list[dict[str, str]]:
        """Every current public key as an RFC 7517 JWK, newest first."""
        return [public_jwk(key) for key in self._keys()]

    def _keys(self) -> list[SigningKey]:
        return self._available(self.keyring.keys)

    def _signing_key(self) -> SigningKey:
        return self._available(self.keyring.signing_key)

    @staticmethod
    def _available(read: Callable[[], T]) -> T:
        try:
            return read()
        except KeysUnavailable as error:
            # The path and the reason are for the operator; callers learn only that it failed.
            _log.error("signing keys unavailable", error=str(error))
            raise Unavailable("the token signing keys cannot be loaded") from error


def public_jwk(key: SigningKey) -> dict[str, str]:
    """The public half of a key as a JWK: kty, crv, x, y plus kid, use and alg."""
    jwk = ECAlgorithm.to_jwk(key.private_key.public_key(), as_dict=True)
    return {**{name: str(value) for name, value in jwk.items()}, "kid": key.kid, "use": "sig", "alg": ALGORITHM}


def verify(token: str, jwks: list[dict[str, str]], leeway_s: float = 0) -> dict[str, Any]:
    """The claims of a token checked the way the gateway checks it: the key named by its
    `kid` among the JWKS keys, ES256 only, our issuer and audience, not expired. Raises
    jwt.InvalidTokenError (or a subclass) otherwise. For tests and tools; the service
    itself never needs to verify its own tokens."""
    kid = jwt.get_unverified_header(token).get("kid")
    jwk = next((key for key in jwks if key.get("kid") == kid), None)
    if jwk is None:
        raise jwt.InvalidTokenError(f"no key {kid!r} in the key set")
    return jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                      leeway=leeway_s, options={"require": ["exp", "iat", "sub", "iss", "aud"]})
