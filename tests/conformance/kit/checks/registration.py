"""MESH.md §2 Registration: the Consul record of an instance and its gRPC check; and that an
instance whose agent forgot it registers again."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import time
from typing import Any

from tests.conformance.kit.api import Api
from tests.conformance.kit.consul import Consul
from tests.conformance.kit.failure import expect
from tests.conformance.kit.target import Target

SECTION = "§2 Registration"
META_KEYS = ("version", "proto_package", "hostname")
CHECK_TIMING = {"Interval": "1s", "Timeout": "3s"}  # MESH.md §2
# Consul's API shows a gRPC check's target only in the output of its last run (its
# Definition comes back empty, and DeregisterCriticalServiceAfter is not shown at all).
CHECK_OUTPUT = re.compile(r"^gRPC check (\S+): ")
FIRST_RUN_WITHIN_S = 5.0
REREGISTER_WITHIN_S = 5.0
POLL_S = 0.1


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


async def check_record(target: Target, api: Api, consul: Consul) -> None:
    """Name, id, tags, metadata, an IP address and the gRPC check naming a service of its API."""
    service = target.record.service
    meta: dict[str, str] = service.get("Meta") or {}
    for key in META_KEYS:
        expect(meta.get(key), target, SECTION, f"metadata {key!r} is missing or empty (Meta: {meta})")
    expect(target.name == service["Service"], target, SECTION, f"registered as {service['Service']!r}")
    wanted_id = f"{target.name}-{meta['hostname']}-{service['Port']}"
    expect(service["ID"] == wanted_id, target, SECTION, f"id {service['ID']!r}, not <name>-<hostname>-<port> "
                                                        f"= {wanted_id!r}")
    tags = service.get("Tags") or []
    for tag in ("vidmesh", f"v{meta['version']}"):
        expect(tag in tags, target, SECTION, f"tag {tag!r} missing (tags: {tags})")
    expect(_is_ip(service["Address"]), target, SECTION, f"address {service['Address']!r} is not an IP literal")
    packages = {name.rpartition(".")[0] for name in api.own_services}
    expect(meta["proto_package"] in packages, target, SECTION,
           f"proto_package {meta['proto_package']!r} is not the package of a service it serves ({sorted(packages)})")
    check = await _grpc_check(target, consul)
    for key, wanted in CHECK_TIMING.items():
        expect(check.get(key) == wanted, target, SECTION, f"the check's {key} is {check.get(key)!r}, not {wanted!r}")
    ran = CHECK_OUTPUT.match(str(check.get("Output", "")))
    expect(ran, target, SECTION, f"the check has not run {FIRST_RUN_WITHIN_S:.0f}s after the instance was ready "
                                 f"(output {check.get('Output')!r})")
    assert ran is not None
    where, _, health_service = ran.group(1).partition("/")
    expect(where == target.address, target, SECTION, f"the check dials {where!r}, not the instance's {target.address}")
    expect(health_service in api.own_services, target, SECTION,
           f"the check asks grpc.health.v1 about {health_service!r}, not a service of its API {api.own_services}")


async def _grpc_check(target: Target, consul: Consul) -> dict[str, Any]:
    """The instance's one gRPC check, once it has run (or as it is after FIRST_RUN_WITHIN_S)."""
    deadline = time.monotonic() + FIRST_RUN_WITHIN_S
    while True:
        records = [record for record in await consul.records(target.name) if record.service["ID"] == target.service_id]
        checks = [check for record in records for check in record.checks if check.get("ServiceID") == target.service_id]
        grpc_checks = [check for check in checks if check.get("Type") == "grpc"]
        expect(len(grpc_checks) == 1, target, SECTION,
               f"{len(grpc_checks)} gRPC checks, not one (its checks: {[c.get('Type') for c in checks]})")
        if CHECK_OUTPUT.match(str(grpc_checks[0].get("Output", ""))) or time.monotonic() > deadline:
            return grpc_checks[0]
        await asyncio.sleep(POLL_S)  # the polling interval of a bounded wait


async def check_registers_again(target: Target, consul: Consul) -> None:
    """Deregistered behind its back (a restarted agent), it is registered again within seconds."""
    await consul.deregister(target.service_id)
    forgotten = time.monotonic()
    while not await consul.registered(target.service_id):
        waited = time.monotonic() - forgotten
        expect(waited < REREGISTER_WITHIN_S, target, SECTION,
               f"not registered again {REREGISTER_WITHIN_S:.0f}s after the agent forgot it")
        await asyncio.sleep(POLL_S)  # the polling interval of a bounded wait
