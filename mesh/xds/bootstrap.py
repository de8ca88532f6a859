"""Proxyless gRPC: the bootstrap JSON grpcio reads, and channels that resolve through xDS.

grpcio reads `GRPC_XDS_BOOTSTRAP` when it creates its xDS client (once per process), so the
variable must point at a bootstrap before the first xds:/// channel: the runtime writes one
beside the process's identity files (mesh/mtls.py), a tool or a test names the operator's
(`use_identity`), and `channel()` writes a plain one if nothing did. One set by the operator
(e.g. in a container) is left alone.

The bootstrap names the process's certificate files as the certificate provider `vidmesh`
(grpc's file_watcher re-reads them every few seconds, so a renewal needs no restart), and the
control plane's clusters tell grpc to present that certificate, trust those roots and expect
the server's SPIFFE id (gRFC A29). The ADS stream itself is plaintext: grpc's xDS client
checks the control plane's certificate by host name (gRFC A65), which a Consul certificate
does not carry; what it receives is no secret, and every hop it configures is mutual TLS.
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
from mesh.identity_files import IdentityFolder
from mesh.tls import client_credentials

BOOTSTRAP_ENV = "GRPC_XDS_BOOTSTRAP"
DEFAULT_NODE = "client"  # node name of a process that is not a mesh service (a script, a test)
CERTIFICATE_PROVIDER = "vidmesh"  # the name the control plane's clusters refer to
REFRESH_INTERVAL = "5s"  # how often grpc re-reads the certificate files
BOOTSTRAP_FILE = "xds-bootstrap.json"


def bootstrap_config(server_uri: str, node_id: str, node_cluster: str = "vidmesh",
                     identity: IdentityFolder | None = None) -> dict[str, Any]:
    """The bootstrap for grpcio's xDS client: one ADS server speaking xDS v3 and, given an
    identity, the files it presents and trusts."""
    bootstrap: dict[str, Any] = {
        "xds_servers": [
            {"server_uri": server_uri, "channel_creds": [{"type": "insecure"}], "server_features": ["xds_v3"]}
        ],
        "node": {"id": node_id, "cluster": node_cluster},
    }
    if identity is not None:
        files = {"certificate_file": str(identity.cert), "private_key_file": str(identity.key),
                 "ca_certificate_file": str(identity.ca), "refresh_interval": REFRESH_INTERVAL}
        bootstrap["certificate_providers"] = {CERTIFICATE_PROVIDER: {"plugin_name": "file_watcher", "config": files}}
    return bootstrap


def write_bootstrap(cfg: config.ServiceConfig | None = None, path: Path | None = None,
                    identity: IdentityFolder | None = None) -> Path:
    """Write the bootstrap for this process (control plane at `cfg.xds_addr`) and return its path.

    Without `cfg` the configuration is read from the environment (VIDMESH_XDS_ADDR). Without
    `path` the file goes beside the identity's files, or, with no identity, to the temp folder
    under a name derived from its content, so processes with the same settings share one.
    """
    cfg = cfg or config.load(service_name=DEFAULT_NODE)
    node = f"{cfg.service_name}-{socket.gethostname()}"
    text = json.dumps(bootstrap_config(cfg.xds_addr, node, cfg.service_name, identity), indent=2, sort_keys=True)
    if path is None and identity is not None:
        path = identity.path / BOOTSTRAP_FILE
    if path is None:
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        path = Path(tempfile.gettempdir()) / f"vidmesh-xds-bootstrap-{digest}.json"
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    staging.write_text(text)
    staging.replace(path)  # atomic: a concurrent reader never sees half a file
    return path


def ensure_bootstrap(cfg: config.ServiceConfig | None = None, identity: IdentityFolder | None = None) -> Path:
    """Point GRPC_XDS_BOOTSTRAP at a bootstrap file, writing one unless a readable one is set."""
    current = os.environ.get(BOOTSTRAP_ENV)
    if current and Path(current).is_file():
        return Path(current)
    path = write_bootstrap(cfg, identity=identity)
    os.environ[BOOTSTRAP_ENV] = str(path)
    return path


def use_identity(xds_addr: str, identity: IdentityFolder, node: str = DEFAULT_NODE) -> Path:
    """Make this process (a tool, a test session) call the mesh as `identity` (e.g. the
    operator's files under .run/certs/operator): its bootstrap, written beside them."""
    cfg = config.load({"VIDMESH_XDS_ADDR": xds_addr, "VIDMESH_SERVICE_NAME": node})
    path = write_bootstrap(cfg, identity=identity, path=identity.path.parent / f".{node}-{BOOTSTRAP_FILE}")
    os.environ[BOOTSTRAP_ENV] = str(path)
    return path


def channel(
    target_service_name: str,
    cfg: config.ServiceConfig | None = None,
    options: Sequence[tuple[str, Any]] | None = None,
    interceptors: Sequence[grpc.aio.ClientInterceptor] | None = None,
) -> grpc.aio.Channel:
    """A channel to a mesh service by its Consul name, load balanced from the xDS control plane,
    mutual TLS as the control plane configures it; every call on it is a span of the caller's
    trace (mesh/calls.py), before `interceptors`.

    Example: `stub = VideoQueryServiceStub(channel("video-query", cfg))`, then call with a deadline.
    """
    ensure_bootstrap(cfg)
    return grpc.aio.secure_channel(f"xds:///{target_service_name}", client_credentials(), options=options,
                                   interceptors=[OutgoingCalls(target_service_name), *(interceptors or ())])


def instance_target(identity: str, address: str) -> str:
    """The xDS target of one instance: `xds:///<identity>@<host>:<port>` (the control plane
    answers it with that address alone, expecting the certificate of `identity`)."""
    return f"xds:///{identity}@{address}"


def channel_to(identity: str, address: str, cfg: config.ServiceConfig | None = None,
               options: Sequence[tuple[str, Any]] | None = None) -> grpc.aio.Channel:
    """A channel to the one instance at `address` (`host:port`) whose certificate names
    `identity`: how tests and tools reach a given instance over mutual TLS. Unlike `channel`,
    it adds no span and no `traceparent` of its own: a caller that sends one (the conformance
    kit does) must be the only one the server sees."""
    ensure_bootstrap(cfg)
    return grpc.aio.secure_channel(instance_target(identity, address), client_credentials(), options=options)


def blocking_channel_to(identity: str, address: str, cfg: config.ServiceConfig | None = None) -> grpc.Channel:
    """`channel_to` for synchronous code (scripts, the demo)."""
    ensure_bootstrap(cfg)
    return grpc.secure_channel(instance_target(identity, address), client_credentials())
