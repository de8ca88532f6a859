"""Register, Login and GetJwks over gRPC against the real users database."""

from __future__ import annotations

import asyncio

import grpc
import jwt
from vidmesh.users.v1 import users_service_pb2 as pb
from vidmesh.users.v1 import users_service_pb2_grpc as pb_grpc

from services.users import tokens
from tests.integration.users.support import (
    DEADLINE_S,
    PASSWORD,
    fails_with,
    field_violations,
    jwks_json,
    new_id,
    register,
    unique_email,
)

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED


async def test_register_then_login_gives_a_token_that_verifies_against_get_jwks(
        stub: pb_grpc.UserServiceAsyncStub) -> None:
    ann = await register(stub, "Ann")
    login = await stub.Login(pb.LoginRequest(email=ann.email, password=PASSWORD), timeout=DEADLINE_S)
    assert (login.user_id, login.token_type, login.expires_in) == (ann.user_id, "Bearer", 3600)

    jwks = jwks_json(await stub.GetJwks(pb.GetJwksRequest(), timeout=DEADLINE_S))
    claims = tokens.verify(login.access_token, jwks)
    assert (claims["sub"], claims["iss"], claims["aud"]) == (ann.user_id, "vidmesh-users", "vidmesh")
    assert claims["exp"] == claims["iat"] + login.expires_in
    assert jwt.get_unverified_header(login.access_token)["kid"] == jwks[0]["kid"]


async def test_login_takes_the_email_in_any_case(stub: pb_grpc.UserServiceAsyncStub) -> None:
    ann = await register(stub, "Ann")
    login = await stub.Login(pb.LoginRequest(email=ann.email.upper(), password=PASSWORD), timeout=DEADLINE_S)
    assert login.user_id == ann.user_id


async def test_duplicate_email_in_another_case_is_already_exists(stub: pb_grpc.UserServiceAsyncStub) -> None:
    ann = await register(stub, "Ann")
    again = pb.RegisterRequest(email=ann.email.upper(), password=PASSWORD, display_name="Other Ann")
    await fails_with(grpc.StatusCode.ALREADY_EXISTS, stub.Register(again, timeout=DEADLINE_S))


async def test_two_registrations_racing_for_one_email_make_one_account(stub: pb_grpc.UserServiceAsyncStub) -> None:
    request = pb.RegisterRequest(email=unique_email(), password=PASSWORD, display_name="Racer")
    results = await asyncio.gather(*(stub.Register(request, timeout=DEADLINE_S) for _ in range(2)),
                                   return_exceptions=True)
    codes = sorted(r.code().name if isinstance(r, grpc.aio.AioRpcError) else "OK" for r in results)
    assert codes == ["ALREADY_EXISTS", "OK"]


async def test_weak_password_is_invalid_argument_naming_the_rule(stub: pb_grpc.UserServiceAsyncStub) -> None:
    request = pb.RegisterRequest(email=unique_email(), password="onlyletters", display_name="Weak")
    error = await fails_with(grpc.StatusCode.INVALID_ARGUMENT, stub.Register(request, timeout=DEADLINE_S))
    assert field_violations(error) == [("password", "must contain at least one digit (password.digit)")]


async def test_password_equal_to_the_email_is_invalid_argument_naming_the_rule(
        stub: pb_grpc.UserServiceAsyncStub) -> None:
    email = unique_email() + "1"  # a digit and letters, so only the email rule is broken
    request = pb.RegisterRequest(email=email, password=email.upper(), display_name="Lazy")
    error = await fails_with(grpc.StatusCode.INVALID_ARGUMENT, stub.Register(request, timeout=DEADLINE_S))
    assert [(f, d.rsplit("(", 1)[1]) for f, d in field_violations(error)] == [("password", "password.not_email)")]


async def test_short_password_and_bad_email_are_refused_by_the_proto_rules(stub: pb_grpc.UserServiceAsyncStub) -> None:
    request = pb.RegisterRequest(email="not-an-email", password="a1", display_name="Shape")
    error = await fails_with(grpc.StatusCode.INVALID_ARGUMENT, stub.Register(request, timeout=DEADLINE_S))
    assert sorted(field for field, _ in field_violations(error)) == ["email", "password"]


async def test_wrong_password_and_unknown_email_are_unauthenticated_with_identical_messages(
        stub: pb_grpc.UserServiceAsyncStub) -> None:
    ann = await register(stub, "Ann")
    wrong = await fails_with(UNAUTHENTICATED, stub.Login(
        pb.LoginRequest(email=ann.email, password="wrong horse 7"), timeout=DEADLINE_S))
    unknown = await fails_with(UNAUTHENTICATED, stub.Login(
        pb.LoginRequest(email=unique_email(), password=PASSWORD), timeout=DEADLINE_S))
    assert wrong.details() == unknown.details()
    assert "password" in (wrong.details() or "")


async def test_a_retried_registration_returns_the_first_user(stub: pb_grpc.UserServiceAsyncStub) -> None:
    request_id = new_id()
    first = await register(stub, "Retry", request_id=request_id)
    again = await stub.Register(pb.RegisterRequest(
        request_id=request_id, email=first.email, password=PASSWORD, display_name="Retry"), timeout=DEADLINE_S)
    assert again.user_id == first.user_id


async def test_a_request_id_replayed_with_another_body_is_invalid_argument_naming_it(
        stub: pb_grpc.UserServiceAsyncStub) -> None:
    request_id = new_id()
    first = await register(stub, "Retry", request_id=request_id)
    other = pb.RegisterRequest(request_id=request_id, email=unique_email(), password=PASSWORD, display_name="Retry")
    error = await fails_with(grpc.StatusCode.INVALID_ARGUMENT, stub.Register(other, timeout=DEADLINE_S))
    assert [field for field, _ in field_violations(error)] == ["request_id"]
    await fails_with(UNAUTHENTICATED, stub.Login(pb.LoginRequest(email=other.email, password=PASSWORD),
                                                 timeout=DEADLINE_S))  # no second account
    login = await stub.Login(pb.LoginRequest(email=first.email, password=PASSWORD), timeout=DEADLINE_S)
    assert login.user_id == first.user_id


async def test_the_jwks_is_the_standard_shape(stub: pb_grpc.UserServiceAsyncStub) -> None:
    keys = jwks_json(await stub.GetJwks(pb.GetJwksRequest(), timeout=DEADLINE_S))
    assert keys
    for key in keys:
        assert set(key) == {"kty", "kid", "use", "alg", "crv", "x", "y"}
        assert (key["kty"], key["alg"], key["use"], key["crv"]) == ("EC", "ES256", "sig", "P-256")
