"""What the registry (Consul) and the gateway (Envoy's admin) say about service instances."""

from __future__ import annotations

import time
from typing import Any, Protocol

import httpx

from mesh.settings import Settings
from tests.e2e.support.waiting import eventually

BLOCKING_WAIT = "5s"


def service_id(service: str, host: str, port: int) -> str:
    """The Consul service id every vidmesh instance registers with: `{name}-{host}-{port}`,
    where host is the name it advertises (natively its process name, e.g. video-query-1)."""
    return f"{service}-{host}-{port}"


class Consul:
    """Consul's HTTP API: health checks, read with blocking queries."""

    def __init__(self, settings: Settings) -> None:
        self.http = httpx.Client(base_url=f"http://{settings.host}:{settings.consul_http_port}", timeout=15)

    def checks(self, service: str, index: int = 0) -> tuple[list[dict[str, Any]], int]:
        """The service's health checks and the index to block on next. With `index`, the call
        returns as soon as they change (or after BLOCKING_WAIT)."""
        params = {"index": str(index), "wait": BLOCKING_WAIT} if index else {}
        response = self.http.get(f"/v1/health/checks/{service}", params=params)
        response.raise_for_status()
        return response.json(), int(response.headers["X-Consul-Index"])

    def check_status(self, service: str, instance: str, index: int = 0) -> tuple[str, int]:
        """The status of one instance's check ("missing" when it is not registered)."""
        checks, index = self.checks(service, index)
        statuses = [c["Status"] for c in checks if c["ServiceID"] == instance]
        return (statuses[0] if statuses else "missing"), index

    def wait_status(self, service: str, instance: str, wanted: set[str], timeout: float) -> float:
        """Block (bounded) until the instance's check is in `wanted`; returns the monotonic
        time at which Consul answered with it."""
        deadline = time.monotonic() + timeout
        status, index = self.check_status(service, instance)
        while status not in wanted:
            assert time.monotonic() < deadline, f"{instance} still {status} after {timeout:.0f}s, wanted {wanted}"
            status, index = self.check_status(service, instance, index)
        return time.monotonic()

    def passing_ids(self, service: str) -> list[str]:
        """The ids of the service's instances whose checks pass."""
        response = self.http.get(f"/v1/health/service/{service}", params={"passing": "1"})
        response.raise_for_status()
        return sorted(entry["Service"]["ID"] for entry in response.json())


    def passing(self, service: str) -> list[dict[str, Any]]:
        """The service's registrations (address, port, metadata) whose checks pass."""
        response = self.http.get(f"/v1/health/service/{service}", params={"passing": "1"})
        response.raise_for_status()
        return [entry["Service"] for entry in response.json()]


class EnvoyAdmin:
    """The gateway's own view of its upstreams (admin interface, loopback only)."""

    def __init__(self, settings: Settings) -> None:
        self.http = httpx.Client(base_url=f"http://{settings.host}:{settings.envoy_admin_port}", timeout=5)

    def endpoints(self, cluster: str) -> set[str]:
        """`host:port` of every endpoint the gateway routes the cluster to."""
        response = self.http.get("/clusters", params={"format": "json"})
        response.raise_for_status()
        for status in response.json().get("cluster_statuses", []):
            if status["name"] == cluster:
                return {f"{h['address']['socket_address']['address']}:{h['address']['socket_address']['port_value']}"
                        for h in status.get("host_statuses", [])}
        return set()

    def wait_listed(self, cluster: str, address: str, listed: bool, timeout: float = 20.0) -> float:
        """Poll (bounded) until the endpoint is (or is no longer) in the cluster; returns the
        monotonic time at which it was seen so."""
        word = "listed" if listed else "gone"
        eventually(lambda: (address in self.endpoints(cluster)) == listed, f"{address} {word} in {cluster}",
                   timeout=timeout, interval=0.05)
        return time.monotonic()


class Routable(Protocol):
    """An instance as the registry and the gateway know it."""

    @property
    def service(self) -> str: ...
    @property
    def service_id(self) -> str: ...
    @property
    def address(self) -> str: ...


def wait_routable(consul: Consul, envoy: EnvoyAdmin, instance: Routable, timeout: float = 30.0) -> None:
    """Wait until an instance passes its Consul check and the gateway routes to it."""
    consul.wait_status(instance.service, instance.service_id, {"passing"}, timeout)
    envoy.wait_listed(instance.service, instance.address, listed=True, timeout=timeout)
