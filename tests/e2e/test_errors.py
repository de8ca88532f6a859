"""Every error a client can cause maps to its HTTP status, with a JSON body naming the problem.

Two shapes reach the client: a gRPC status transcoded by Envoy (`{"code": <gRPC code>,
"message", "details": [google.rpc.BadRequest ...]}`) and a reply Envoy makes itself
(`{"code": <HTTP status>, "error", "message"}`).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from mesh.settings import Settings
from tests.e2e.conftest import World
from tests.e2e.support.rest import Gateway, body, new_id, ok
from tests.e2e.support.tokens import signed_token

BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


def error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The JSON error body of an answer that must have `status`."""
    assert response.status_code == status, f"wanted {status}, got {response.status_code}: {response.text[:500]}"
    answer = body(response)
    assert answer.get("message"), f"the error names no problem: {answer}"
    return answer


def violations(answer: dict[str, Any]) -> dict[str, str]:
    """field -> description of the google.rpc.BadRequest in an error body."""
    found = [d for d in answer.get("details", []) if d.get("@type") == BAD_REQUEST]
    assert found, f"no google.rpc.BadRequest in {answer}"
    return {v["field"]: v["description"] for d in found for v in d["fieldViolations"]}


def test_malformed_json_is_400(gateway: Gateway) -> None:
    response = gateway.http.post("/api/auth/v1/register", content=b'{"email": "a@example.test", "password": ',
                                 headers={"content-type": "application/json"})
    answer = error(response, 400)
    assert "transcode" in answer["error"], answer


def test_missing_required_field_is_400_naming_it(gateway: Gateway) -> None:
    response = gateway.post("/api/auth/v1/register", {"password": "correct horse", "displayName": "Nobody"})
    assert "email" in violations(error(response, 400))


def test_too_long_field_is_400_naming_it(gateway: Gateway) -> None:
    assert "display_name" in violations(error(gateway.register("N" * 65), 400))


def test_too_long_field_through_a_bff_is_400_naming_it(gateway: Gateway, world: World) -> None:
    response = gateway.post("/api/web/v1/videos", {"title": "T" * 201, "durationSeconds": 1}, world.owner)
    assert "title" in violations(error(response, 400))


@pytest.mark.parametrize("path", ["/api/web/v1/videos/{}", "/api/mobile/v1/videos/{}"])
def test_unknown_video_is_404(gateway: Gateway, path: str) -> None:
    unknown = str(uuid.uuid4())
    answer = error(gateway.get(path.format(unknown)), 404)
    assert unknown in answer["message"] or "not found" in answer["message"].lower(), answer


def test_following_an_unknown_channel_is_404(gateway: Gateway, world: World) -> None:
    unknown = str(uuid.uuid4())
    error(gateway.post(f"/api/web/v1/channels/{unknown}:follow", {"requestId": new_id()}, world.viewer), 404)


def test_publishing_someone_elses_video_is_403(gateway: Gateway, world: World) -> None:
    draft, version = gateway.create_video(world.owner, "Not yours")
    response = gateway.post(f"/api/web/v1/videos/{draft}:publish", {"requestId": new_id()}, world.viewer)
    assert "owner" in error(response, 403)["message"]
    assert gateway.publish(world.owner, draft, version) > version  # the owner still may


def test_duplicate_registration_is_409(gateway: Gateway) -> None:
    email = f"{uuid.uuid4()}@example.test"
    ok(gateway.register("First", email))
    error(gateway.register("Second", email), 409)


def test_stale_expected_version_is_409(gateway: Gateway, world: World) -> None:
    draft, version = gateway.create_video(world.owner, "Versioned")
    response = gateway.post(f"/api/web/v1/videos/{draft}:publish",
                            {"requestId": new_id(), "expectedVersion": str(version + 1)}, world.owner)
    assert f"version {version}" in error(response, 409)["message"]


def test_expired_token_is_401_and_a_fresh_one_with_the_same_key_is_not(
        gateway: Gateway, world: World, settings: Settings) -> None:
    expired = signed_token(settings, world.viewer.user_id, expires_in_s=-120)
    response = gateway.http.get("/api/web/v1/notifications", headers={"authorization": f"Bearer {expired}"})
    assert "expired" in error(response, 401)["message"].lower()
    fresh = signed_token(settings, world.viewer.user_id, expires_in_s=300)
    ok(gateway.http.get("/api/web/v1/notifications", headers={"authorization": f"Bearer {fresh}"}))


def test_write_without_token_is_401(gateway: Gateway) -> None:
    response = gateway.post("/api/web/v1/videos", {"title": "Anonymous", "durationSeconds": 1})
    assert "jwt" in error(response, 401)["message"].lower()


def test_oversized_body_is_413(gateway: Gateway, settings: Settings) -> None:
    response = gateway.register("B" * (settings.gateway_max_body_bytes + 1))
    error(response, 413)


def test_login_burst_is_429_then_logins_work_again(gateway: Gateway, settings: Settings) -> None:
    account = gateway.sign_up("Burst")
    # The bucket is shared by every client of this gateway; send until it is empty (a refill
    # may land in between, hence up to three bucketfuls).
    statuses = []
    for _ in range(3 * settings.gateway_login_burst + 1):
        response = gateway.login(account.email, "wrong password 1")
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses[-1] == 429, f"no 429 after {len(statuses)} logins: {statuses}"
    assert "rate" in error(response, 429)["error"], response.text
    assert gateway.login_token(account.email)["userId"] == account.user_id
