"""Which Consul name a BFF reaches each service it calls by, read from the runtime's environment.

The services are the ones its topology entry calls (mesh/topology.py); each is reached by its
own Consul name unless VIDMESH_UPSTREAM_<KEY> (VIDMESH_UPSTREAM_VIDEO_QUERY, ...) names
another, so a test or a canary can point a BFF at instances registered under another name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from mesh import topology
from mesh.config import ConfigError

# What an xds:/// target and Consul's DNS interface accept: one DNS label.
CONSUL_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def upstream_setting(service: str) -> str:
    """The variable that overrides the Consul name of a called service."""
    return f"VIDMESH_UPSTREAM_{topology.service(service).key.upper()}"


def load_upstreams(entry: topology.Service, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each service `entry` calls -> the Consul name to reach it by; ConfigError names a bad override."""
    env = os.environ if environ is None else environ
    upstreams = {}
    for service in entry.calls:
        setting = upstream_setting(service)
        name = env.get(setting, "").strip() or service
        if not CONSUL_NAME.fullmatch(name):
            raise ConfigError(f"{setting}={name!r} is not a Consul service name (lowercase letters, digits and '-')")
        upstreams[service] = name
    return upstreams
