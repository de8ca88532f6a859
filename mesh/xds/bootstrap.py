"""Proxyless gRPC: the bootstrap JSON grpcio reads, and channels that resolve through xDS.

grpcio reads `GRPC_XDS_BOOTSTRAP` when it creates its xDS client (once per process), so
`channel()` makes sure the variable points at a bootstrap before the first xds:/// channel.
A bootstrap set by the operator (e.g. in a container) is left alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc

from mesh import config
from mesh.calls import OutgoingCalls

BOOTSTRAP_ENV = "GRPC_XDS_BOOTSTRAP"
DEFAULT_NODE = "client"  # node name of a process that is not a mesh service (a script, a test)


def bootstrap_config(server_uri: str, node_id: str, node_cluster: str = "vidmesh") -> dict[str, Any]:
    """The bootstrap for grpcio's xDS client: one insecure ADS server speaking xDS v3."""
    return {
        "xds_servers": [
            {"server_uri": server_uri, "channel_creds": [{"type": "insecure"}], "server_features": ["xds_v3"]}
        ],
        "node": {"id": node_id, "cluster": node_cluster},
    }


def write_bootstrap(cfg: config.ServiceConfig | None = None, path: Path | None = None) -> Path:
    """Write the bootstrap for this process (control plane at `cfg.xds_addr`) and return its path.

    Without `cfg` the configuration is read from the environment (VIDMESH_XDS_ADDR). Without
    `path` the file goes to the temp folder under a name derived from its content, so
    processes with the same settings share one file instead of leaving one each.
    """
    cfg = cfg or config.load(service_name=DEFAULT_NODE)
    node = f"{cfg.service_name}-{socket.gethostname()}"
    text = json.dumps(bootstrap_config(cfg.xds_addr, node, cfg.service_name), indent=2, sort_keys=True)
    if path is None:
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        path = Path(tempfile.gettempdir()) / f"vidmesh-xds-bootstrap-{digest}.json"
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    staging.write_text(text)
    staging.replace(path)  # atomic: a concurrent reader never sees half a file
    return path


def ensure_bootstrap(cfg: config.ServiceConfig | None = None) -> Path:
    """Point GRPC_XDS_BOOTSTRAP at a bootstrap file, writing one unless a readable one is set."""
    current = os.environ.get(BOOTSTRAP_ENV)
    if current and Path(current).is_file():
        return Path(current)
    path = write_bootstrap(cfg)
    os.environ[BOOTSTRAP_ENV] = str(path)
    return path


def channel(
    target_service_name: str,
    cfg: config.ServiceConfig | None = None,
    options: Sequence[tuple[str, Any]] | None = None,
    interceptors: Sequence[grpc.aio.ClientInterceptor] | None = None,
) -> grpc.aio.Channel:
    """A channel to a mesh service by its Consul name, load balanced from the xDS control plane;
    every call on it is a span of the caller's trace (mesh/calls.py), before `interceptors`.

    Example: `stub = VideoQueryServiceStub(channel("video-query", cfg))`, then call with a deadline.
    """
    ensure_bootstrap(cfg)
    return grpc.aio.insecure_channel(f"xds:///{target_service_name}", options=options,
                                     interceptors=[OutgoingCalls(target_service_name), *(interceptors or ())])
