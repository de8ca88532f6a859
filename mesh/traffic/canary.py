"""The entries `make canary` and `make canary-rollback` stand for, written to Consul.

A canary of `video-query` at version 2 taking 10% of the calls is three entries: a
service-defaults saying the service speaks gRPC (Consul refuses splits of plain TCP), a
service-resolver with one subset per version (by the `version` metadata every instance
registers, MESH.md §2) whose default is the stable version, and a service-splitter with the
weights. A rollback deletes the splitter: the resolver's default, the stable version, takes
every call again. Consul checks what it can when an entry is written (a subset that does not
exist, weights that do not add up to 100) and says why it refuses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import consul

from mesh.traffic.entries import FAULT_PREFIX

STABLE = "1"  # the version an instance registers unless VIDMESH_SERVICE_VERSION says otherwise
_VERSION = re.compile(r"v?(?P<number>[0-9][\w.\-]*)")


class CanaryError(ValueError):
    """A request that cannot become entries; the message says which argument is wrong."""


def version_of(text: str) -> str:
    """The registered version of "v2" or "2"."""
    found = _VERSION.fullmatch(text.strip())
    if not found:
        raise CanaryError(f"VERSION={text!r} is not a version such as v2")
    return found.group("number")


def subset(version: str) -> str:
    """The resolver's subset name of a version: "v2"."""
    return f"v{version}"


def weight_of(text: str) -> float:
    try:
        weight = float(text)
    except ValueError:
        raise CanaryError(f"WEIGHT={text!r} is not a number from 0 to 100") from None
    if not 0 <= weight <= 100:
        raise CanaryError(f"WEIGHT={text!r} is not a number from 0 to 100")
    return weight


def resolver(existing: Mapping[str, Any] | None, *versions: str) -> dict[str, Any]:
    """A resolver with a subset per version (kept: the subsets it has), the stable one the default."""
    subsets = dict((existing or {}).get("Subsets") or {})
    for version in (STABLE, *versions):
        subsets.setdefault(subset(version), {"Filter": f'Service.Meta.version == "{version}"'})
    return {"DefaultSubset": subset(STABLE), "Subsets": subsets}


def splitter(version: str, weight: float) -> dict[str, Any]:
    """`weight` percent to `version`, the rest to the stable version."""
    return {"Splits": [{"Weight": round(100 - weight, 2), "ServiceSubset": subset(STABLE)},
                       {"Weight": round(weight, 2), "ServiceSubset": subset(version)}]}


class Canaries:
    """Reads and writes a service's traffic entries in Consul."""

    def __init__(self, client: consul.Consul) -> None:
        self._consul = client

    def _entry(self, kind: str, service: str) -> dict[str, Any] | None:
        try:
            found = self._consul.config.get(kind, service)
        except consul.NotFound:
            return None
        return dict(found) if found else None

    def prepare(self, service: str, *versions: str) -> None:
        """The service speaks gRPC and has a subset per version, the stable one its default."""
        if self._entry("service-defaults", service) is None:
            self._consul.config.set("service-defaults", service, {"Protocol": "grpc"})
        self._consul.config.set("service-resolver", service,
                                resolver(self._entry("service-resolver", service), *versions))

    def canary(self, service: str, version: str, weight: float) -> None:
        """Send `weight` percent of the calls to `version`."""
        self.prepare(service, version)
        self._consul.config.set("service-splitter", service, splitter(version, weight))

    def rollback(self, service: str) -> None:
        """Every call to the stable version again."""
        self._consul.config.delete("service-splitter", service)
        self.prepare(service)

    def keep_dark(self, service: str, version: str) -> bool:
        """At a stack's start: a canary instance takes no call until told to, unless the
        service already has a resolver (someone's policy). True if it wrote one."""
        if self._entry("service-resolver", service) is not None:
            return False
        self.prepare(service, version)
        return True

    def set_fault(self, service: str, spec: str | None) -> None:
        """Put (or, with None, remove) the service's fault key."""
        if spec is None:
            self._consul.kv.delete(f"{FAULT_PREFIX}{service}")
        else:
            self._consul.kv.put(f"{FAULT_PREFIX}{service}", spec)

    def splits(self) -> dict[str, list[tuple[str, float]]]:
        """Each service with a policy -> its (subset, percent) shares."""
        shares: dict[str, list[tuple[str, float]]] = {}
        for entry in self._consul.config.list("service-resolver") or []:
            shares[entry["Name"]] = [(entry.get("DefaultSubset") or "all", 100.0)]
        for entry in self._consul.config.list("service-splitter") or []:
            shares[entry["Name"]] = [(s.get("ServiceSubset") or "all", float(s.get("Weight", 0)))
                                     for s in entry.get("Splits") or []]
        return shares

    def faults(self) -> dict[str, str]:
        """Each service with a fault key -> its JSON."""
        _, items = self._consul.kv.get(FAULT_PREFIX, recurse=True)
        return {item["Key"].removeprefix(FAULT_PREFIX): (item["Value"] or b"").decode()
                for item in items or () if item["Key"] != FAULT_PREFIX}
