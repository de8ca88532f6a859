"""`python -m mesh.traffic`: canary releases and faults from the command line (the Makefile's
`make canary`, `make canary-rollback`, `make fault`, and the splits in `make status`).

    python -m mesh.traffic canary video-query v2 10     10% of video-query's calls to v2
    python -m mesh.traffic rollback video-query         every call to v1 again
    python -m mesh.traffic fault notification '{"abort": {"code": "UNAVAILABLE", "percent": 100}}'
    python -m mesh.traffic fault notification           no fault any more
    python -m mesh.traffic status                       the splits and faults in force
    python -m mesh.traffic keep-dark                    the stacks' start: canaries take no call yet

Consul is VIDMESH_CONSUL_HTTP_ADDR, or the settings' (settings.env).
"""

from __future__ import annotations

import os
import sys

import consul
import requests

from mesh import settings, topology
from mesh.traffic import entries
from mesh.traffic.canary import Canaries, CanaryError, version_of, weight_of


def _client() -> consul.Consul:
    address = os.environ.get("VIDMESH_CONSUL_HTTP_ADDR", "").removeprefix("http://")
    if not address:
        loaded = settings.load()
        address = f"{loaded.host}:{loaded.consul_http_port}"
    host, _, port = address.rpartition(":")
    return consul.Consul(host=host, port=int(port), connections_timeout=5)


def status(canaries: Canaries) -> str:
    """The table `make status` prints under the processes."""
    shares, faults = canaries.splits(), canaries.faults()
    if not shares and not faults:
        return "traffic: no policy (every instance of a service takes calls in turn)"
    rows = [("SERVICE", "SPLIT", "FAULT")]
    for name in sorted(set(shares) | set(faults)):
        split = " / ".join(f"{subset} {percent:g}%" for subset, percent in shares.get(name, [])) or "all instances"
        rows.append((name, split, faults.get(name, "-")))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def run(argv: list[str], canaries: Canaries) -> str:
    """Do what `argv` says; the line to print."""
    match argv:
        case ["canary", service, version, weight]:
            topology.service(service)
            canaries.canary(service, version_of(version), weight_of(weight))
            return f"{service}: {weight_of(weight):g}% of the calls to v{version_of(version)}"
        case ["rollback", service]:
            topology.service(service)
            canaries.rollback(service)
            return f"{service}: every call to v1"
        case ["fault", service, spec]:
            entries.fault(service, spec)  # refuse here what the control plane would refuse
            canaries.set_fault(service, spec)
            return f"{service}: fault {spec}"
        case ["fault", service]:
            canaries.set_fault(service, None)
            return f"{service}: no fault"
        case ["status"]:
            return status(canaries)
        case ["keep-dark"]:
            loaded = settings.load()
            wrote = [name for name, canary in loaded.canaries.items()
                     if canaries.keep_dark(name.replace("_", "-"), canary.version)]
            return f"traffic: canaries kept dark: {', '.join(wrote) or 'none new'}"
    raise CanaryError(__doc__ or "")


def main(argv: list[str]) -> int:
    try:
        print(run(argv, Canaries(_client())), flush=True)
    except (CanaryError, entries.PolicyError, topology.UnknownService, settings.SettingsError) as error:
        print(f"traffic: {error}", file=sys.stderr)
        return 2
    except (consul.ConsulException, requests.RequestException) as error:
        print(f"traffic: Consul refused or is away: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
