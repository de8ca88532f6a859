"""Envoy 1.40 as the gateway: ready, fed by the control plane, and answering for real."""

from __future__ import annotations

import json
import time

import grpc
import httpx
from google.protobuf import json_format
from vidmesh.users.v1 import users_service_pb2, users_service_pb2_grpc

from mesh.settings import Settings


def _admin(settings: Settings, path: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{settings.envoy_admin_port}{path}", timeout=5)


def test_admin_reports_live(settings: Settings) -> None:
    response = _admin(settings, "/ready")
    assert response.status_code == 200
    assert response.text.strip() == "LIVE"


def test_gateway_is_connected_to_the_control_plane(settings: Settings) -> None:
    stats = _admin(settings, "/stats?filter=control_plane.connected_state").text
    assert "control_plane.connected_state: 1" in stats


def test_unknown_route_is_a_json_404(settings: Settings) -> None:
    response = httpx.get(f"http://{settings.host}:{settings.envoy_port}/api/web/v1/no-such-page", timeout=5)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == 5  # NOT_FOUND: the one error shape, google.rpc.Status


def test_write_without_token_is_a_json_401(settings: Settings) -> None:
    response = httpx.post(f"http://{settings.host}:{settings.envoy_port}/api/web/v1/videos", json={}, timeout=5)
    assert response.status_code == 401
    assert response.json()["message"] == "Jwt is missing"


def test_jwks_is_proxied_from_the_users_service(settings: Settings) -> None:
    """GET through the gateway is transcoded to users' GetJwks on an instance found over xDS."""
    users = f"{settings.instance_address('users', 0)}:{settings.instance_ports('users')[0]}"
    with grpc.insecure_channel(users) as channel:
        direct = users_service_pb2_grpc.UserServiceStub(channel).GetJwks(users_service_pb2.GetJwksRequest(), timeout=5)
    expected = {key["kid"] for key in json.loads(json_format.MessageToJson(direct))["keys"]}
    url = f"http://{settings.host}:{settings.envoy_port}/.well-known/jwks.json"
    deadline = time.monotonic() + 15  # the users instance reaches Envoy's EDS within seconds of turning healthy
    response = httpx.get(url, timeout=5)
    while response.status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.2)  # polling interval of a bounded readiness wait
        response = httpx.get(url, timeout=5)
    assert response.status_code == 200, response.text
    assert {key["kid"] for key in response.json()["keys"]} == expected
