"""Read-only views of the registry (Consul) and the gateway's routing (Envoy admin)."""

from __future__ import annotations

import time
from typing import Any

import httpx
from confluent_kafka import ConsumerGroupState
from confluent_kafka.admin import AdminClient

from mesh.settings import Settings
from scripts.demo.calls import StepFailed


class Registry:
    """Consul's health API; waits use blocking queries, which return as soon as it changes."""

    def __init__(self, settings: Settings) -> None:
        self.base = f"http://{settings.host}:{settings.consul_http_port}"
        self.http = httpx.Client(base_url=self.base, timeout=15)

    def instances(self, service: str) -> list[dict[str, Any]]:
        """Every registered instance: id, address and the statuses of its checks (the node's
        and its own), e.g. "passing,passing"."""
        response = self.http.get(f"/v1/health/service/{service}")
        response.raise_for_status()
        return [{"id": e["Service"]["ID"], "address": f"{e['Service']['Address']}:{e['Service']['Port']}",
                 "status": ",".join(c["Status"] for c in e["Checks"])} for e in response.json()]

    def wait_status(self, service: str, instance_id: str, wanted: str, timeout: float) -> float:
        """Block until the instance's check is `wanted`; the monotonic time it was seen."""
        deadline, index = time.monotonic() + timeout, "0"
        while time.monotonic() < deadline:
            response = self.http.get(f"/v1/health/checks/{service}", params={"index": index, "wait": "5s"})
            response.raise_for_status()
            index = response.headers["X-Consul-Index"]
            if any(c["ServiceID"] == instance_id and c["Status"] == wanted for c in response.json()):
                return time.monotonic()
        raise StepFailed(f"{instance_id} was not {wanted} within {timeout:.0f} s")


class Routing:
    """Which endpoints the gateway sends a cluster's requests to."""

    def __init__(self, settings: Settings) -> None:
        self.base = f"http://{settings.host}:{settings.envoy_admin_port}"
        self.http = httpx.Client(base_url=self.base, timeout=5)

    def endpoints(self, cluster: str) -> set[str]:
        """host:port of each endpoint of the cluster."""
        response = self.http.get("/clusters", params={"format": "json"})
        response.raise_for_status()
        for status in response.json().get("cluster_statuses", []):
            if status["name"] == cluster:
                return {f"{h['address']['socket_address']['address']}:{h['address']['socket_address']['port_value']}"
                        for h in status.get("host_statuses", [])}
        return set()

    def wait_endpoint(self, cluster: str, address: str, present: bool, timeout: float) -> float:
        """Poll (bounded) until the endpoint is in (or out of) the cluster; the monotonic time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (address in self.endpoints(cluster)) == present:
                return time.monotonic()
            time.sleep(0.05)  # polling interval of a bounded wait
        raise StepFailed(f"{address} still {'missing from' if present else 'in'} {cluster} after {timeout:.0f} s")


def wait_group_stable(bootstrap: str, group: str, members: int, timeout: float) -> None:
    """Poll (bounded) until a consumer group is stable with `members` members: a restarted
    projector has rejoined, and the rebalance that paused every member is over."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = admin.describe_consumer_groups([group])[group].result(timeout=5)
        if described.state == ConsumerGroupState.STABLE and len(described.members) == members:
            return
        time.sleep(0.2)  # polling interval of a bounded wait
    raise StepFailed(f"consumer group {group} not stable with {members} members after {timeout:.0f} s")
