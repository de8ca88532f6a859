"""Step 1, API Gateway: the one front door checks tokens and limits before any service works."""

from __future__ import annotations

import time

from scripts.demo import show
from scripts.demo.calls import StepFailed, User, expect
from scripts.demo.world import LOGIN_WAIT_S, Demo, login

WHY = """Envoy is the only way in, and only to the BFFs and to sign-in: the domain services are
internal. It transcodes REST/JSON to gRPC from the proto descriptors, verifies the JWT that
users signed (with the keys users publishes as a JWKS) before a request reaches any service,
and applies rate limits. Every error, Envoy's own too, is a google.rpc.Status, so a client
handles one error shape."""


def run(demo: Demo) -> str:
    """401 without or with a forged token, 200 with a real one, then 429 on a login burst."""
    show.heading(1, "API Gateway", "Envoy checks who you are and how often you ask")
    show.explain(WHY)
    ada, _ = demo.users
    show.say("the keys that verify tokens, served by users through the gateway")
    keys = demo.rest.ok("GET", "/.well-known/jwks.json")["keys"]
    expect(bool(keys) and all(k["alg"] == "ES256" for k in keys), f"{len(keys)} ES256 key(s) published")
    unauthorized(demo, ada)
    internal(demo)
    statuses = login_burst(demo, ada)
    return (f"401 without/with a forged token, 200 with Ada's; video-query not exposed; "
            f"{len(statuses) - 1} logins, then 429")


def internal(demo: Demo) -> None:
    show.say("a domain service through the gateway: refused, it is reached only inside the mesh")
    error = demo.grpcurl.refused(demo.grpcurl.gateway, "vidmesh.video.v1.VideoQueryService/GetVideo",
                                 {"video_id": demo.video_id})
    expect("PermissionDenied" in error and "not exposed at the edge" in error, "PERMISSION_DENIED at the edge")


def unauthorized(demo: Demo, ada: User) -> None:
    path = "/api/web/v1/notifications"
    show.say("a 'me' route without a token")
    expect(demo.rest.call("GET", path).status_code == 401, "401 without a token")
    show.say("with a forged token: Ada's, its signature swapped for another")
    head, claims, _ = ada.token.split(".")
    forged = User(ada.user_id, ada.email, ada.name, f"{head}.{claims}.{'A' * 86}", "FORGED_TOKEN")
    expect(demo.rest.call("GET", path, who=forged).status_code == 401, "401 with a forged signature")
    show.say("with Ada's real token")
    expect(demo.rest.call("GET", path, who=ada).status_code == 200, "200 with a valid token")


def login_burst(demo: Demo, ada: User) -> list[int]:
    burst = demo.settings.gateway_login_burst
    show.say(f"logins get a bucket of {burst} a minute (a password guesser's route); send more than that")
    show.command(f"for i in $(seq {burst + 2}); do "
                 f"{demo.rest.curl('POST', '/api/auth/v1/login', {'email': ada.email, 'password': 'guess-1234'})} "
                 "-o /dev/null -w '%{http_code} '; done")
    statuses: list[int] = []
    for _ in range(3 * burst + 1):  # a refill may land in between
        response = demo.rest.call("POST", "/api/auth/v1/login", {"email": ada.email, "password": "guess-1234"},
                                  quiet=True)
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    show.result(" ".join(map(str, statuses)))
    show.json_result(response.json())
    expect(statuses[-1] == 429 and response.json()["code"] == 8,
           "429 once the bucket is empty, with a google.rpc.Status body (8: RESOURCE_EXHAUSTED)")
    show.say(f"putting it back: wait (at most {LOGIN_WAIT_S:.0f} s) until a login succeeds again")
    began = time.monotonic()
    try:
        login(demo, ada.email, quiet=True)
    except StepFailed as error:
        raise StepFailed(f"logins did not work again: {error}") from None
    expect(True, f"a login succeeds again after {time.monotonic() - began:.1f} s")
    return statuses
