"""What every step of the tour works with: the running stack, two users and a video."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass

from mesh.identity_files import IdentityFolder
from mesh.settings import Settings
from mesh.xds.bootstrap import use_identity
from scripts import trace
from scripts.demo import show
from scripts.demo.calls import Grpcurl, Rest, StepFailed, User
from scripts.devstack.stack import Stack
from scripts.toolchain import Toolchain

PASSWORD = "demo password 1"
LOGIN_WAIT_S = 15.0  # the login bucket gets a token back every 60 s / VIDMESH_GATEWAY_LOGIN_BURST (6 s)


@dataclass
class Demo:
    """The tour's shared state."""

    stack: Stack
    rest: Rest
    grpcurl: Grpcurl
    began_ms: int  # wall clock at the start, to find the tour's events on Kafka
    ada: User | None = None
    bob: User | None = None
    video_id: str = ""
    publish_trace: str = ""  # the trace id the tour chose for the publish (step 7 shows it)

    @property
    def settings(self) -> Settings:
        """The stack's settings (ports, limits)."""
        return self.stack.settings

    @property
    def users(self) -> tuple[User, User]:
        """Ada (the uploader) and Bob (her follower), once set up."""
        assert self.ada is not None and self.bob is not None, "the tour's users are not set up"
        return self.ada, self.bob


def connect() -> Demo:
    """The tour's clients of the running stack; fails if no stack runs."""
    stack = Stack()
    if not stack.healthy():
        raise StepFailed("no healthy stack is running: start one with `make start` (or `make up`)")
    s = stack.settings
    gateway = f"{s.host}:{s.envoy_port}"
    use_identity(f"{s.host}:{s.xds_port}", IdentityFolder(s.operator_certs), node="demo")  # its gRPC channels
    grpcurl = Grpcurl(Toolchain(s.cache_dir).go_binary("grpcurl"), gateway, s.operator_certs)
    return Demo(stack, Rest(f"http://{gateway}"), grpcurl, int(time.time() * 1000))


def login(demo: Demo, email: str, quiet: bool = False) -> dict[str, object]:
    """Log in, waiting (bounded) for the login rate limit when an earlier run drained it."""
    deadline = time.monotonic() + LOGIN_WAIT_S
    while True:
        response = demo.rest.call("POST", "/api/auth/v1/login", {"email": email, "password": PASSWORD}, quiet=quiet)
        if response.status_code == 200:
            answer: dict[str, object] = response.json()
            return answer
        if response.status_code != 429 or time.monotonic() > deadline:
            raise StepFailed(f"login answered {response.status_code}: {response.text[:200]}")
        time.sleep(0.5)  # polling interval of a bounded wait for the bucket to refill


def sign_up(demo: Demo, name: str) -> User:
    """Register and log in a user with a fresh email address."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.test"
    demo.rest.ok("POST", "/api/auth/v1/register", {"email": email, "password": PASSWORD, "displayName": name})
    answer = login(demo, email, quiet=True)
    var, token = f"{name.upper()}_TOKEN", str(answer["accessToken"])
    curl = demo.rest.curl("POST", "/api/auth/v1/login", {"email": email, "password": PASSWORD})
    show.command(f"{var}=$({curl} | jq -r .accessToken)")
    show.result(f"{var}={token[:24]}... (an ES256 JWT, {answer['expiresIn']} s)")
    return User(str(answer["userId"]), email, name, token, var)


def set_up(demo: Demo) -> None:
    """Ada and Bob sign up, Bob follows Ada, Ada publishes a video."""
    show.heading(0, "Setup", "two users and a published video, all through the gateway")
    demo.ada, demo.bob = sign_up(demo, "Ada"), sign_up(demo, "Bob")
    ada, bob = demo.users
    show.say("Bob follows Ada's channel")
    demo.rest.ok("POST", f"/api/web/v1/channels/{ada.user_id}:follow", {}, bob)
    show.say("Ada creates a draft, then publishes it with a traceparent of the tour's (step 7 shows the trace)")
    created = demo.rest.ok("POST", "/api/web/v1/videos", {"title": f"Otters at dawn {uuid.uuid4().hex[:6]}",
                                                          "description": "Two otters, one river.",
                                                          "durationSeconds": 95, "tags": ["otters", "rivers"]}, ada)
    demo.video_id = created["videoId"]
    demo.publish_trace = secrets.token_hex(16)
    traceparent = f"00-{demo.publish_trace}-{secrets.token_hex(8)}-01"
    demo.rest.ok("POST", f"/api/web/v1/videos/{demo.video_id}:publish", {"expectedVersion": created["version"]}, ada,
                 headers={"traceparent": traceparent})
    trace.demo_trace_file(demo.settings).write_text(demo.publish_trace + "\n")  # for `make trace`
