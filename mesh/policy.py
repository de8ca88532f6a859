"""Who may call whom, derived from the topology and written to Consul as intentions:
`python -m mesh.policy` (the stacks run it at every start, after Consul, before any service).

    *              <- operator allow, * deny      (default deny; the developer's identity may call anything)
    <service>      <- each of topology.callers_of(service) allow (the gateway for the edge services)
    xds            <- gateway allow               (Envoy's ADS stream; the proxyless clients use the plaintext port)

One `service-intentions` config entry per destination, each replaced whole; an entry for a
destination the topology no longer has is deleted. Consul keeps them on disk (it runs as a
persistent server), so a restarted Consul still denies by default. Running it twice changes
nothing. Exit codes: 0 applied, 1 Consul refused or is unreachable.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import structlog

from mesh import config, log, topology
from mesh.consul_connect import ConsulConnect, ConsulError

OPERATOR = "operator"  # the developer's identity (make certs): may call every service
WILDCARD = "*"
logger = structlog.get_logger("mesh.policy")


def _allow(source: str, why: str) -> dict[str, Any]:
    return {"Name": source, "Action": "allow", "Description": why}


def intentions() -> dict[str, list[dict[str, Any]]]:
    """Destination -> its sources, as the config entries hold them (Consul ranks them itself)."""
    entries: dict[str, list[dict[str, Any]]] = {
        WILDCARD: [_allow(OPERATOR, "the developer's identity (make certs) may call every service"),
                   {"Name": WILDCARD, "Action": "deny", "Description": "default deny: only what the topology says"}],
        topology.CONTROL_PLANE: [_allow(topology.GATEWAY, "Envoy's ADS stream")],
    }
    for service in topology.SERVICES:
        callers = topology.callers_of(service.name)
        if callers:
            entries[service.name] = [_allow(caller, "mesh/topology.py" if caller != topology.GATEWAY
                                            else "mesh/topology.py: at the edge") for caller in callers]
    return entries


async def apply(connect: ConsulConnect) -> dict[str, list[str]]:
    """Write every entry, delete the stale ones; what was written and deleted."""
    wanted = intentions()
    for destination, sources in wanted.items():
        await connect.put_intentions(destination, sources)
    stale = [entry["Name"] for entry in await connect.intentions_entries() if entry["Name"] not in wanted]
    for destination in stale:
        await connect.delete_intentions(destination)
    return {"written": sorted(wanted), "deleted": sorted(stale)}


def main() -> int:
    """Apply the topology's intentions to the Consul at VIDMESH_CONSUL_HTTP_ADDR."""
    cfg = config.load(service_name="policy")
    log.configure(cfg.service_name, cfg.log_level)

    async def run() -> dict[str, list[str]]:
        connect = ConsulConnect(cfg.consul_http_addr)
        try:
            return await apply(connect)
        finally:
            await connect.aclose()

    try:
        outcome = asyncio.run(run())
    except ConsulError as error:
        logger.error("intentions not applied", error=str(error))
        return 1
    logger.info("intentions applied", **outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main())
