"""What the kit reads from and does to Consul, over its HTTP API (as any language would)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Record:
    """One registered instance as the catalog holds it, with its checks."""

    service: dict[str, Any]  # the catalog's Service: ID, Service, Tags, Meta, Address, Port
    checks: list[dict[str, Any]]

    @property
    def address(self) -> str:
        """Where to dial it: `<Address>:<Port>`."""
        return f"{self.service['Address']}:{self.service['Port']}"


class Consul:
    """The agent's HTTP API: instances of a name, one instance by id, deregistration."""

    def __init__(self, address: str) -> None:
        self._http = httpx.AsyncClient(base_url=f"http://{address}", timeout=TIMEOUT_S)

    async def records(self, name: str, *, passing: bool = False) -> list[Record]:
        """Every instance registered as `name` (only those whose checks pass, if asked)."""
        reply = await self._http.get(f"/v1/health/service/{name}", params={"passing": "1"} if passing else {})
        reply.raise_for_status()
        return [Record(entry["Service"], entry["Checks"]) for entry in reply.json()]

    async def registered(self, service_id: str) -> bool:
        """Whether the agent knows this instance id now."""
        reply = await self._http.get(f"/v1/agent/service/{service_id}")
        if reply.status_code == httpx.codes.NOT_FOUND:
            return False
        reply.raise_for_status()
        return True

    async def deregister(self, service_id: str) -> None:
        """Make the agent forget an instance, as a restarted agent would."""
        (await self._http.put(f"/v1/agent/service/deregister/{service_id}")).raise_for_status()

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()
