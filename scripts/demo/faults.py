"""Step 8, Fault injection: notification fails on purpose, the web home degrades and recovers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import consul

from mesh.traffic import entries
from mesh.traffic.canary import Canaries
from scripts.demo import show
from scripts.demo.calls import StepFailed, expect
from scripts.demo.world import Demo

WHY = """A rehearsal of a failure: a fault key in Consul (Consul's config entries have no fault
vocabulary) makes the control plane add an abort to every route to notification, in Envoy and
in the BFFs' proxyless clients alike. The web home still answers 200: the unread count is an
optional part, so web-bff names it degraded and shows the rest. Removing the key heals it,
with no restart of anything."""
SERVICE = "notification"
FAULT = {"abort": {"code": "UNAVAILABLE", "percent": 100}}
DEGRADED_PART = "notifications"
EFFECTIVE_WITHIN_S = 10.0  # the control plane pushes within a second or two; a bound, not a measure
POLL_S = 0.2


def run(demo: Demo) -> str:
    """The home before, under the fault (200, degraded part named), and after its removal."""
    show.heading(8, "Fault injection", "notification fails on purpose; the web page degrades, then heals")
    show.explain(WHY)
    faults = Canaries(consul.Consul(host=demo.settings.host, port=demo.settings.consul_http_port,
                                    connections_timeout=5))
    show.say("Bob's home, all parts there")
    expect(not home_call(demo).get("degraded"), "200, nothing degraded")
    spec = json.dumps(FAULT)
    show.say(f"every call to {SERVICE} now fails with UNAVAILABLE")
    show.command(f"make fault SERVICE={SERVICE} FAULT='{spec}'")
    entries.fault(SERVICE, spec)  # what `make fault` checks before writing
    written = time.monotonic()
    faults.set_fault(SERVICE, spec)
    try:
        took_in = wait_home(demo, written, lambda home: DEGRADED_PART in home.get("degraded", []))
        show.say(f"Bob's home, degraded {took_in * 1000:.0f} ms after the write: what he sees")
        home = home_call(demo)
        expect(home.get("signedIn") is True and home.get("degraded") == [DEGRADED_PART]
               and int(home.get("unreadNotificationCount", 0)) == 0,
               f"200, signed in, the rest of the page there, only {DEGRADED_PART!r} named degraded")
    finally:
        show.say("the rehearsal is over: remove the fault")
        show.command(f"make fault SERVICE={SERVICE}")
        removed = time.monotonic()
        faults.set_fault(SERVICE, None)
    took_out = wait_home(demo, removed, lambda home: not home.get("degraded"))
    show.say(f"Bob's home, whole again {took_out * 1000:.0f} ms after the removal")
    expect(not home_call(demo).get("degraded"), "200, nothing degraded: recovered")
    return (f"{SERVICE} aborted: home 200 with {DEGRADED_PART!r} degraded {took_in * 1000:.0f} ms after the "
            f"write, whole again {took_out * 1000:.0f} ms after the removal")


def home_call(demo: Demo) -> dict[str, Any]:
    """Bob's home, printed as what he sees: the status and the parts of the page."""
    bob = demo.users[1]
    show.command(demo.rest.curl("GET", "/api/web/v1/home", who=bob))
    response = demo.rest.call("GET", "/api/web/v1/home", who=bob, quiet=True)
    if response.status_code != 200:
        raise StepFailed(f"the home answered {response.status_code}: {response.text[:200]}")
    home: dict[str, Any] = response.json()
    show.result("\n".join([
        f"HTTP {response.status_code}",
        f"signed in: {home.get('signedIn', False)}",
        f"unread notifications: {home.get('unreadNotificationCount', 0)}",
        *(f"{part} videos: {len(home.get(part, []))}" for part in ("trending", "following", "forYou")),
        f"degraded: {home.get('degraded', []) or 'nothing'}"]))
    return home


def wait_home(demo: Demo, since: float, wanted: Callable[[dict[str, Any]], bool]) -> float:
    """Bob's home until `wanted(home)` holds (bounded): how long after `since`. Every
    answer on the way must be a 200: the page degrades, it never fails."""
    bob = demo.users[1]
    while True:
        response = demo.rest.call("GET", "/api/web/v1/home", who=bob, quiet=True)
        if response.status_code != 200:
            raise StepFailed(f"the home answered {response.status_code}: {response.text[:200]}")
        home: dict[str, Any] = response.json()
        if wanted(home):
            return time.monotonic() - since
        if time.monotonic() - since > EFFECTIVE_WITHIN_S:
            raise StepFailed(f"the home did not change within {EFFECTIVE_WITHIN_S} s: {home.get('degraded')}")
        time.sleep(POLL_S)  # the interval of a bounded poll
