"""The REST/JSON surface of the gateway, called the way a client app would call it.

Bodies and answers are Envoy's proto3 JSON: lowerCamelCase names, int64 as strings.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.e2e.support.waiting import eventually

PASSWORD = "correct horse battery 9"
LOGIN_WAIT_S = 15.0  # the login bucket gets a token back every 60 s / VIDMESH_GATEWAY_LOGIN_BURST (6 s)


@dataclass(frozen=True)
class Account:
    """A registered, signed-in user."""

    user_id: str
    email: str
    display_name: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header of this user."""
        return {"authorization": f"Bearer {self.token}"}


def body(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of an answer (every answer of the gateway is JSON, errors too)."""
    assert response.headers.get("content-type", "").startswith("application/json"), (
        f"{response.status_code} {response.request.url.path}: not JSON: {response.text[:300]!r}")
    parsed = response.json()
    assert isinstance(parsed, dict), parsed
    return parsed


def ok(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a 200 answer; fails with the status and body otherwise."""
    assert response.status_code == 200, (
        f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text[:500]}")
    return body(response)


WRITE_RETRY_S = 10.0


def new_id() -> str:
    """A fresh request_id."""
    return str(uuid.uuid4())


class Gateway:
    """REST calls through Envoy's listener."""

    def __init__(self, base_url: str, timeout: float = 15.0) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def get(self, path: str, who: Account | None = None, **params: Any) -> httpx.Response:
        """GET with the user's token when `who` is given."""
        return self.http.get(path, params=params, headers=who.auth if who else None)

    def post(self, path: str, json: dict[str, Any], who: Account | None = None) -> httpx.Response:
        """POST a JSON body with the user's token when `who` is given.

        A write that carries a requestId is sent again with the same body after a 503, as a
        client should: the request_id makes the retry apply once (bounded by WRITE_RETRY_S)."""
        headers = who.auth if who else None
        response = self.http.post(path, json=json, headers=headers)
        deadline = time.monotonic() + WRITE_RETRY_S
        while response.status_code == 503 and "requestId" in json and time.monotonic() < deadline:
            time.sleep(0.25)  # the client's back-off before its retry
            response = self.http.post(path, json=json, headers=headers)
        return response

    def register(self, display_name: str, email: str | None = None) -> httpx.Response:
        """POST /api/auth/v1/register with a fresh request_id."""
        email = email or f"{uuid.uuid4()}@example.test"
        return self.post("/api/auth/v1/register", {"requestId": new_id(), "email": email, "password": PASSWORD,
                                                   "displayName": display_name})

    def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        """POST /api/auth/v1/login once (it may be rate limited)."""
        return self.post("/api/auth/v1/login", {"email": email, "password": password})

    def login_token(self, email: str) -> dict[str, Any]:
        """Log in, waiting out the login rate limit (bounded) if another test drained it."""

        def attempt() -> dict[str, Any] | None:
            response = self.login(email)
            if response.status_code == 429:
                return None
            return ok(response)

        return eventually(attempt, f"login of {email}", timeout=LOGIN_WAIT_S, interval=0.5)

    def sign_up(self, display_name: str) -> Account:
        """Register a new user and log them in."""
        email = f"{uuid.uuid4()}@example.test"
        user_id = ok(self.register(display_name, email))["userId"]
        answer = self.login_token(email)
        assert answer["userId"] == user_id and answer["tokenType"] == "Bearer", answer
        return Account(user_id, email, display_name, answer["accessToken"])

    def create_video(self, owner: Account, title: str) -> tuple[str, int]:
        """A new draft: (video_id, version)."""
        answer = ok(self.post("/api/web/v1/videos", {"requestId": new_id(), "title": title,
                                                     "description": f"{title}, filmed for the e2e tests",
                                                     "durationSeconds": 42, "tags": ["e2e"]}, owner))
        return answer["videoId"], int(answer["version"])

    def publish(self, owner: Account, video_id: str, expected_version: int = 0) -> int:
        """Publish a draft; returns the new version."""
        answer = ok(self.post(f"/api/web/v1/videos/{video_id}:publish",
                              {"requestId": new_id(), "expectedVersion": str(expected_version)}, owner))
        return int(answer["version"])

    def follow(self, follower: Account, channel: Account) -> int:
        """Follow a channel; returns its follower count."""
        answer = ok(self.post(f"/api/web/v1/channels/{channel.user_id}:follow", {"requestId": new_id()}, follower))
        return int(answer["followerCount"])

    def mobile_video(self, video_id: str, min_version: int = 0, who: Account | None = None) -> dict[str, Any]:
        """GET /api/mobile/v1/videos/{id} at least at `min_version`."""
        return ok(self.get(f"/api/mobile/v1/videos/{video_id}", who, minVersion=min_version))

    def video_page(self, video_id: str, min_version: int = 0, who: Account | None = None) -> dict[str, Any]:
        """GET /api/web/v1/videos/{id} at least at `min_version`; fails if the page says stale."""
        page = ok(self.get(f"/api/web/v1/videos/{video_id}", who, minVersion=min_version))
        assert not page["stale"], f"the video page is older than version {min_version}: {page}"
        return page
