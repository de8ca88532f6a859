"""Every error a client can cause has its status and one shape, whoever made it.

REST callers get the HTTP status and google.rpc.Status in proto3 JSON, both when a service
refused the request (Envoy transcodes its gRPC status) and when Envoy refused it itself:
    {"code": <gRPC code number>, "message": "<what is wrong>", "details": [...]}
with a google.rpc.BadRequest in `details` naming each field that failed validation.
gRPC and gRPC-web callers get the gRPC status and a plain-text message.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import httpx
import pytest
from vidmesh.mobilebff.v1 import mobile_bff_service_pb2 as mobile
from vidmesh.users.v1 import users_service_pb2 as users

from mesh.settings import Settings
from scripts.devstack.stack import Stack
from tests.e2e.conftest import World
from tests.e2e.support.grpc_gateway import GatewayGrpc, Outcome, grpc_web_call
from tests.e2e.support.instances import frozen, instances, restore_routable
from tests.e2e.support.registry import Consul, EnvoyAdmin
from tests.e2e.support.rest import Gateway, body, new_id, ok
from tests.e2e.support.tokens import signed_token
from tests.e2e.support.waiting import eventually

BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
Code = grpc.StatusCode
LOGIN = users.DESCRIPTOR.services_by_name["UserService"].methods_by_name["Login"]
REGISTER = users.DESCRIPTOR.services_by_name["UserService"].methods_by_name["Register"]
GET_FEED = mobile.DESCRIPTOR.services_by_name["MobileBffService"].methods_by_name["GetFeed"]
LIKE = mobile.DESCRIPTOR.services_by_name["MobileBffService"].methods_by_name["LikeVideo"]


def error(response: httpx.Response, status: int, code: Code) -> dict[str, Any]:
    """The google.rpc.Status body of an answer that must have HTTP `status` and gRPC `code`."""
    assert response.status_code == status, f"wanted {status}, got {response.status_code}: {response.text[:500]}"
    answer = body(response)
    assert set(answer) == {"code", "message", "details"}, f"not a google.rpc.Status: {answer}"
    assert answer["code"] == code.value[0], f"wanted code {code.value[0]} ({code.name}): {answer}"
    assert isinstance(answer["message"], str) and answer["message"], f"the error names no problem: {answer}"
    assert isinstance(answer["details"], list), answer
    return answer


def refused(outcome: Outcome, code: Code) -> str:
    """The plain-text message of a gRPC call that must have failed with `code`."""
    assert outcome.status == code.name, outcome
    assert outcome.message and not outcome.message.lstrip().startswith("{"), f"not plain text: {outcome}"
    return outcome.message


def violations(answer: dict[str, Any]) -> dict[str, str]:
    """field -> description of the google.rpc.BadRequest in an error body."""
    found = [d for d in answer["details"] if d.get("@type") == BAD_REQUEST]
    assert found, f"no google.rpc.BadRequest in {answer}"
    return {v["field"]: v["description"] for d in found for v in d["fieldViolations"]}


@pytest.fixture(scope="module")
def grpc_gateway(settings: Settings) -> GatewayGrpc:
    return GatewayGrpc(settings)


def test_malformed_json_is_400(gateway: Gateway) -> None:
    response = gateway.http.post("/api/auth/v1/register", content=b'{"email": "a@example.test", "password": ',
                                 headers={"content-type": "application/json"})
    error(response, 400, Code.INVALID_ARGUMENT)


def test_missing_required_field_is_400_naming_it(gateway: Gateway) -> None:
    response = gateway.post("/api/auth/v1/register", {"password": "correct horse", "displayName": "Nobody"})
    assert "email" in violations(error(response, 400, Code.INVALID_ARGUMENT))


def test_too_long_field_is_400_naming_it(gateway: Gateway) -> None:
    assert "display_name" in violations(error(gateway.register("N" * 65), 400, Code.INVALID_ARGUMENT))


def test_too_long_field_through_a_bff_is_400_naming_it(gateway: Gateway, world: World) -> None:
    response = gateway.post("/api/web/v1/videos", {"title": "T" * 201, "durationSeconds": 1}, world.owner)
    assert "title" in violations(error(response, 400, Code.INVALID_ARGUMENT))


def test_unknown_query_parameter_is_400_naming_it(gateway: Gateway) -> None:
    answer = error(gateway.get("/api/web/v1/home", viewerId=str(uuid.uuid4())), 400, Code.INVALID_ARGUMENT)
    assert "viewerId" in answer["message"], answer


def test_a_header_name_grpc_cannot_carry_is_400_naming_it(gateway: Gateway) -> None:
    # HTTP allows `^` and `#` in a header name, gRPC metadata does not: once a 500 from the BFF.
    answer = error(gateway.http.get("/api/mobile/v1/feed", headers={"x^fuzz": "1"}), 400, Code.INVALID_ARGUMENT)
    assert "x^fuzz" in answer["message"], answer
    assert "x#fuzz" in refused(grpc_web_call(gateway.http, GET_FEED, mobile.GetFeedRequest(), [("x#fuzz", "1")]),
                               Code.INVALID_ARGUMENT)


def test_unknown_route_is_404(gateway: Gateway) -> None:
    answer = error(gateway.get("/api/web/v1/no-such-page"), 404, Code.NOT_FOUND)
    assert "/api/web/v1/no-such-page" in answer["message"], answer


def test_a_method_the_path_has_no_binding_for_is_405_naming_the_ones_it_has(gateway: Gateway, world: World) -> None:
    video = f"/api/web/v1/videos/{uuid.uuid4()}"
    answer = error(gateway.http.delete(video, headers=world.viewer.auth), 405, Code.UNIMPLEMENTED)
    assert "GET" in answer["message"], answer
    assert gateway.http.delete(video).headers["allow"] == "GET"
    comments = gateway.http.put(f"{video}/comments", json={}, headers=world.viewer.auth)
    assert error(comments, 405, Code.UNIMPLEMENTED) and comments.headers["allow"] == "GET, POST"
    # The path and the methods it does take are untouched: a GET of an unknown video is its 404.
    error(gateway.get(video), 404, Code.NOT_FOUND)


@pytest.mark.parametrize("path", ["/api/web/v1/videos/{}", "/api/mobile/v1/videos/{}"])
def test_unknown_video_is_404(gateway: Gateway, path: str) -> None:
    unknown = str(uuid.uuid4())
    answer = error(gateway.get(path.format(unknown)), 404, Code.NOT_FOUND)
    assert unknown in answer["message"] or "not found" in answer["message"].lower(), answer


def test_following_an_unknown_channel_is_404(gateway: Gateway, world: World) -> None:
    unknown = str(uuid.uuid4())
    error(gateway.post(f"/api/web/v1/channels/{unknown}:follow", {"requestId": new_id()}, world.viewer),
          404, Code.NOT_FOUND)


def test_publishing_someone_elses_video_is_403(gateway: Gateway, world: World) -> None:
    draft, version = gateway.create_video(world.owner, "Not yours")
    response = gateway.post(f"/api/web/v1/videos/{draft}:publish", {"requestId": new_id()}, world.viewer)
    assert "owner" in error(response, 403, Code.PERMISSION_DENIED)["message"]
    assert gateway.publish(world.owner, draft, version) > version  # the owner still may


def test_a_token_for_another_audience_is_403(gateway: Gateway, world: World, settings: Settings) -> None:
    token = signed_token(settings, world.viewer.user_id, expires_in_s=300, audience="another-api")
    response = gateway.http.get("/api/web/v1/notifications", headers={"authorization": f"Bearer {token}"})
    assert "audience" in error(response, 403, Code.PERMISSION_DENIED)["message"].lower()


def test_duplicate_registration_is_409(gateway: Gateway) -> None:
    email = f"{uuid.uuid4()}@example.test"
    ok(gateway.register("First", email))
    error(gateway.register("Second", email), 409, Code.ALREADY_EXISTS)


def test_stale_expected_version_is_409(gateway: Gateway, world: World) -> None:
    draft, version = gateway.create_video(world.owner, "Versioned")
    response = gateway.post(f"/api/web/v1/videos/{draft}:publish",
                            {"requestId": new_id(), "expectedVersion": str(version + 1)}, world.owner)
    assert f"version {version}" in error(response, 409, Code.ABORTED)["message"]


def test_expired_token_is_401_and_a_fresh_one_with_the_same_key_is_not(
        gateway: Gateway, world: World, settings: Settings) -> None:
    expired = signed_token(settings, world.viewer.user_id, expires_in_s=-120)
    response = gateway.http.get("/api/web/v1/notifications", headers={"authorization": f"Bearer {expired}"})
    assert "expired" in error(response, 401, Code.UNAUTHENTICATED)["message"].lower()
    fresh = signed_token(settings, world.viewer.user_id, expires_in_s=300)
    ok(gateway.http.get("/api/web/v1/notifications", headers={"authorization": f"Bearer {fresh}"}))


def test_write_without_token_is_401(gateway: Gateway) -> None:
    response = gateway.post("/api/web/v1/videos", {"title": "Anonymous", "durationSeconds": 1})
    assert "jwt" in error(response, 401, Code.UNAUTHENTICATED)["message"].lower()


def test_a_forged_token_is_unauthenticated_over_grpc_and_grpc_web(gateway: Gateway, world: World,
                                                                   grpc_gateway: GatewayGrpc) -> None:
    head, claims, _ = world.viewer.token.split(".")
    forged = [("authorization", f"Bearer {head}.{claims}.{'A' * 86}")]
    request = users.LoginRequest(email=world.viewer.email, password="irrelevant 1")
    for outcome in (grpc_gateway.call(LOGIN, request, forged), grpc_web_call(gateway.http, LOGIN, request, forged)):
        assert "jwt" in refused(outcome, Code.UNAUTHENTICATED).lower()


def test_oversized_body_is_413_and_resource_exhausted_over_grpc(
        gateway: Gateway, settings: Settings, grpc_gateway: GatewayGrpc) -> None:
    error(gateway.register("B" * (settings.gateway_max_body_bytes + 1)), 413, Code.RESOURCE_EXHAUSTED)
    # Register, not Login: the login bucket, which other tests drain, comes before the size limit.
    huge = users.RegisterRequest(email="a@example.test", password="correct horse 1",
                                 display_name="B" * (settings.gateway_max_body_bytes + 1))
    for outcome in (grpc_gateway.call(REGISTER, huge), grpc_web_call(gateway.http, REGISTER, huge)):
        assert str(settings.gateway_max_body_bytes) in refused(outcome, Code.RESOURCE_EXHAUSTED)


def test_login_burst_is_resource_exhausted_for_grpc_and_429_for_rest_then_logins_work_again(
        gateway: Gateway, world: World, settings: Settings, grpc_gateway: GatewayGrpc) -> None:
    # REST and gRPC logins share one bucket, shared by every client of this gateway: send
    # until it is empty (a refill may land in between, hence up to three bucketfuls).
    guess = users.LoginRequest(email=world.viewer.email, password="wrong password 1")
    outcomes = [grpc_gateway.call(LOGIN, guess) for _ in range(3 * settings.gateway_login_burst + 1)]
    statuses = [o.status for o in outcomes]
    assert Code.RESOURCE_EXHAUSTED.name in statuses, f"never limited: {statuses}"
    assert Code.UNAVAILABLE.name not in statuses, statuses
    limited = outcomes[statuses.index(Code.RESOURCE_EXHAUSTED.name)]
    assert "rate limit" in refused(limited, Code.RESOURCE_EXHAUSTED), limited
    refused(grpc_web_call(gateway.http, LOGIN, guess), Code.RESOURCE_EXHAUSTED)
    response = gateway.login(world.viewer.email, "wrong password 1")
    assert "rate limit" in error(response, 429, Code.RESOURCE_EXHAUSTED)["message"]
    assert response.headers["x-ratelimit-remaining"] == "0", response.headers
    assert gateway.login_token(world.viewer.email)["userId"] == world.viewer.user_id


def test_no_healthy_instance_is_503_and_unavailable_over_grpc(gateway: Gateway, stack: Stack, consul: Consul,
                                                              envoy: EnvoyAdmin, grpc_gateway: GatewayGrpc) -> None:
    mobile_bff = instances(stack.settings, "mobile-bff")
    try:
        for instance in mobile_bff:
            stack.pc.stop_process(instance.name)
        # The gateway learns of the empty set from the control plane a moment after Consul.
        answer = eventually(lambda: error(gateway.get("/api/mobile/v1/feed"), 503, Code.UNAVAILABLE),
                            "503 once no mobile-bff instance is up", timeout=15)
        assert "no instance" in answer["message"], answer
        assert "no instance" in refused(grpc_gateway.call(GET_FEED, mobile.GetFeedRequest()), Code.UNAVAILABLE)
    finally:
        restore_routable(stack, mobile_bff, consul, envoy)
    ok(gateway.get("/api/mobile/v1/feed"))



def test_no_answer_in_time_is_504_and_deadline_exceeded_over_grpc(gateway: Gateway, world: World, stack: Stack,
                                                                  consul: Consul, envoy: EnvoyAdmin,
                                                                  grpc_gateway: GatewayGrpc) -> None:
    # Both calls reach the frozen mobile-bff before its health check fails, and wait out the
    # route's 10 s timeout; the gRPC client itself would wait longer. Both are writes: a read
    # is tried again after 5 s, when no instance is left (a 503).
    mobile_bff = instances(stack.settings, "mobile-bff")
    like = f"/api/mobile/v1/videos/{world.video_id}:like"
    try:
        with frozen(stack, mobile_bff), ThreadPoolExecutor(2) as pool:
            rest = pool.submit(gateway.http.post, like, json={"requestId": new_id()}, headers=world.viewer.auth)
            grpc_call = pool.submit(grpc_gateway.call, LIKE, mobile.LikeVideoRequest(video_id=world.video_id),
                                    None, 20.0)
            answer = error(rest.result(), 504, Code.DEADLINE_EXCEEDED)
            message = refused(grpc_call.result(), Code.DEADLINE_EXCEEDED)
    finally:
        restore_routable(stack, mobile_bff, consul, envoy)
    assert answer["message"] == message == "the service did not answer in time", (answer, message)
