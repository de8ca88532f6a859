"""The JWKS the gateway serves is a standard RFC 7517 key set: a JOSE library other than the
one that signs (pyjwt) reads it and verifies a token that Login really issued."""

from __future__ import annotations

from typing import cast

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet, KeySetSerialization

from services.users.tokens import AUDIENCE, ISSUER
from tests.e2e.conftest import World
from tests.e2e.support.rest import Gateway, ok

# RFC 7517 section 4 (kty, use, kid, alg) plus the EC parameters of RFC 7518 section 6.2.
EC_PARAMETERS = {"kty", "use", "kid", "alg", "crv", "x", "y"}


def test_ec_keys_carry_exactly_the_ec_parameters(gateway: Gateway) -> None:
    keys = ok(gateway.get("/.well-known/jwks.json"))["keys"]
    assert keys, "no key published"
    for key in keys:
        assert key["kty"] == "EC" and set(key) == EC_PARAMETERS, key


def test_another_jose_library_verifies_a_login_token_with_the_served_keys(gateway: Gateway, world: World) -> None:
    key_set = KeySet.import_key_set(cast(KeySetSerialization, ok(gateway.get("/.well-known/jwks.json"))))
    token = jwt.decode(world.owner.token, key_set, algorithms=["ES256"])
    claims = jwt.JWTClaimsRegistry(iss={"essential": True, "value": ISSUER},
                                   aud={"essential": True, "value": AUDIENCE},
                                   sub={"essential": True, "value": world.owner.user_id})
    claims.validate(token.claims)
    head, body, signature = world.owner.token.split(".")
    tampered = f"{head}.{body}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    with pytest.raises(BadSignatureError):
        jwt.decode(tampered, key_set, algorithms=["ES256"])
