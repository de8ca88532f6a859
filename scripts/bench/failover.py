"""kill -9 of one video-query instance under load: the calls that failed, and how long until
Envoy stopped routing to it.

The load is open loop (vegeta) on the web page through the gateway: web-bff reads from
both video-query instances over proxyless gRPC, and both it and Envoy take their endpoints
from the same control plane. The instance gets no chance to deregister or drain: its
Consul check must go critical first. Afterwards process-compose starts it again, and the
run waits until Envoy routes to it again, so later rows see the stack whole.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx
import psutil

from mesh.settings import Settings
from scripts.bench import load
from scripts.bench.private_stack import pid_of
from scripts.devstack.stack import Stack

CLUSTER = "video-query"
ROUTING_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class FailoverRun:
    """What a kill -9 under load cost."""

    load: load.Load
    out_of_routing_s: float  # from the kill until Envoy no longer listed the instance
    back_in_routing_s: float  # from the kill until Envoy routed to the restarted instance


def endpoints(settings: Settings, cluster: str) -> set[str]:
    """host:port of every endpoint Envoy routes `cluster` to (its admin interface)."""
    response = httpx.get(f"http://{settings.host}:{settings.envoy_admin_port}/clusters",
                         params={"format": "json"}, timeout=5)
    response.raise_for_status()
    for status in response.json().get("cluster_statuses", []):
        if status["name"] == cluster:
            return {f"{h['address']['socket_address']['address']}:{h['address']['socket_address']['port_value']}"
                    for h in status.get("host_statuses", [])}
    return set()


def _until(settings: Settings, victim: str, listed: bool, since: float) -> float:
    deadline = time.monotonic() + ROUTING_TIMEOUT_S
    while (victim in endpoints(settings, CLUSTER)) != listed:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{victim} still {'gone from' if listed else 'in'} {CLUSTER} after "
                               f"{ROUTING_TIMEOUT_S:.0f} s")
        time.sleep(0.02)
    return time.monotonic() - since


def kill9(stack: Stack, name: str) -> None:
    """SIGKILL a process of the stack and its children: no deregistration, no drain."""
    root = psutil.Process(pid_of(stack, name))
    for process in [*root.children(recursive=True), root]:
        process.kill()


def measure(tools: load.Tools, stack: Stack, url: str, victim: str, victim_address: str, *, rate: float,
            seconds: float) -> FailoverRun:
    """Open-loop GETs of `url` at `rate`/s for `seconds`; `victim` is killed a third of the way in."""
    results: list[load.Load] = []
    driver = threading.Thread(target=lambda: results.append(load.vegeta(tools, url, duration_s=seconds, rate=rate)))
    driver.start()
    time.sleep(seconds / 3)
    killed = time.monotonic()
    kill9(stack, victim)
    gone = _until(stack.settings, victim_address, listed=False, since=killed)
    driver.join()
    back = _until(stack.settings, victim_address, listed=True, since=killed)
    return FailoverRun(results[0], gone, back)
