"""Render the gateway's Envoy config (gateway/envoy.yaml, a template) for where it runs.

    python -m scripts.gateway native PATH    the native stack's config (the dev stack calls render())
    python -m scripts.gateway compose DIR    DIR/envoy.yaml for Docker Compose, plus the files it
                                             reads, copied beside it: DIR/vidmesh.binpb, and what
                                             it serves, DIR/openapi.json and DIR/dist/ (the web app)

Both renderings come from one template and the same settings (settings.env with environment
overrides), so they cannot drift apart. Compose runs the second command at every start, in
a one-shot container of the vidmesh image with the gateway settings in its environment
(docker-compose.yml, service `gateway-config`): `VIDMESH_GATEWAY_RATE_PER_SECOND=3 docker
compose up` changes the Compose gateway exactly as `VIDMESH_GATEWAY_RATE_PER_SECOND=3 make up`
changes the native one. The routes' settings reach the control plane the same way.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from string import Template

from mesh.identity_files import CA, CERT, KEY
from mesh.settings import ROOT, Settings, SettingsError, load

TEMPLATE = ROOT / "gateway" / "envoy.yaml"
DESCRIPTOR = ROOT / "gen" / "vidmesh.binpb"
WEB_ROOT = ROOT / "web" / "dist"  # `make web` builds it (scripts/webapp.py)
OPENAPI_DOCUMENT = ROOT / "gen" / "openapi" / "openapi.json"  # `make codegen` writes it (scripts/openapi)
COMPOSE_CONFIG_NAME = "envoy.yaml"
# Envoy's image runs it as its own `envoy` user, not as the vidmesh user who writes the files.
WORLD_READABLE = 0o644


class GatewayConfigError(RuntimeError):
    """The Compose rendering cannot be written; the message says what to do."""


def _policy(s: Settings) -> dict[str, str]:
    # The route table's settings (the CORS origin, the login bucket) are the control plane's:
    # gateway/routes.yaml, served over RDS (mesh/xds/gateway_routes.py).
    return {
        "RATE_BURST": str(s.gateway_rate_per_second),
        "MAX_BODY_BYTES": str(s.gateway_max_body_bytes),
    }


def native_values(s: Settings) -> dict[str, str]:
    """Loopback addresses and the ports from settings.env."""
    return {
        **_policy(s),
        "ADMIN_ADDRESS": "127.0.0.1",  # the admin interface never leaves loopback
        "ADMIN_PORT": str(s.envoy_admin_port),
        "LISTEN_ADDRESS": s.host,
        "LISTEN_PORT": str(s.envoy_port),
        "SELF_ADDRESS": s.host,
        "XDS_ADDRESS": s.host,
        "XDS_PORT": str(s.xds_mtls_port),
        "JAEGER_ADDRESS": s.host,
        "JAEGER_OTLP_PORT": str(s.jaeger_otlp_grpc_port),
        "DESCRIPTOR": str(DESCRIPTOR),
        "SDS_DIR": str(s.run_dir),
        "WEB_ROOT": str(WEB_ROOT),
        "OPENAPI_DOCUMENT": str(OPENAPI_DOCUMENT),
    }


def compose_values(s: Settings, folder: Path) -> dict[str, str]:
    """Container ports and Compose host names; docker-compose.yml publishes them on loopback."""
    return {
        **_policy(s),
        "ADMIN_ADDRESS": "0.0.0.0",
        "ADMIN_PORT": "9901",
        "LISTEN_ADDRESS": "0.0.0.0",
        "LISTEN_PORT": "8080",
        "SELF_ADDRESS": "127.0.0.1",
        "XDS_ADDRESS": "xds",
        "XDS_PORT": "18443",
        "JAEGER_ADDRESS": "jaeger",
        "JAEGER_OTLP_PORT": "4317",
        "DESCRIPTOR": str(folder / DESCRIPTOR.name),
        "WEB_ROOT": str(folder / WEB_ROOT.name),
        "OPENAPI_DOCUMENT": str(folder / OPENAPI_DOCUMENT.name),
        "SDS_DIR": str(folder),
    }


# Where Compose's `certs` keeps the gateway's identity (the gateway-identity volume; Envoy
# mounts it read-only at the same path).
COMPOSE_GATEWAY_IDENTITY = Path("/etc/vidmesh-certs/gateway")


def render(values: dict[str, str]) -> str:
    return Template(TEMPLATE.read_text()).substitute(values)


def sds_files(identity: Path) -> dict[str, str]:
    """The SDS files the gateway's ADS stream reads its certificate and roots from: file name
    -> content. They name the PEM files of `identity` (mesh/identity_files.py) and watch its
    folder, whose `..data` link is replaced when the certificate is renewed."""
    secret = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
    watched = {"watched_directory": {"path": str(identity)}}
    certificate = {"certificate_chain": {"filename": str(identity / CERT)},
                   "private_key": {"filename": str(identity / KEY)}, **watched}
    roots = {"trusted_ca": {"filename": str(identity / CA)}, **watched}
    return {
        "gateway-identity.yaml": json.dumps({"resources": [{"@type": secret, "name": "gateway-identity",
                                                            "tls_certificate": certificate}]}, indent=2),
        "mesh-roots.yaml": json.dumps({"resources": [{"@type": secret, "name": "mesh-roots",
                                                      "validation_context": roots}]}, indent=2),
    }


def write_sds(folder: Path, identity: Path) -> None:
    """Write the SDS files into `folder` (beside the rendered envoy.yaml)."""
    for name, text in sds_files(identity).items():
        _replace(folder / name, text.encode())


def compose_rendering(s: Settings, folder: Path) -> str:
    """The Compose config that reads its descriptor set and serves its files from `folder`."""
    header = (f"# Rendered from gateway/envoy.yaml by `python -m scripts.gateway compose {folder}` "
              "when the stack started; edit the template, not this file.\n")
    return header + render(compose_values(s, folder))


def _replace(path: Path, data: bytes) -> None:
    """Write next to `path`, then rename: an Envoy restarting meanwhile never reads half a file."""
    fd, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(scratch, WORLD_READABLE)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


def _copy_web(folder: Path) -> None:
    """The web app's files (fixed names, so a copy replaces the last one file by file)."""
    for source in sorted(p for p in WEB_ROOT.rglob("*") if p.is_file() and not p.name.startswith(".")):
        target = folder / WEB_ROOT.name / source.relative_to(WEB_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        _replace(target, source.read_bytes())


def write_compose(folder: Path, s: Settings) -> Path:
    """Write `folder`/envoy.yaml and every file it names; the config's path."""
    if not folder.is_dir():
        raise GatewayConfigError(f"{folder} is not a folder: docker-compose.yml mounts the gateway volume there")
    missing = [f"{path} (run `make {target}`)" for path, target in
               ((DESCRIPTOR, "protos"), (OPENAPI_DOCUMENT, "codegen"), (WEB_ROOT / "index.html", "web"))
               if not path.is_file()]
    if missing:
        raise GatewayConfigError(f"missing {', '.join(missing)}; the image builds them itself")
    _replace(folder / DESCRIPTOR.name, DESCRIPTOR.read_bytes())
    write_sds(folder, COMPOSE_GATEWAY_IDENTITY)
    _replace(folder / OPENAPI_DOCUMENT.name, OPENAPI_DOCUMENT.read_bytes())
    _copy_web(folder)
    config = folder / COMPOSE_CONFIG_NAME
    _replace(config, compose_rendering(s, folder).encode())
    return config


def main(argv: list[str]) -> int:
    try:
        if len(argv) == 2 and argv[0] == "compose":
            config = write_compose(Path(argv[1]), load())
            print(f"gateway: wrote {config} and the files it reads and serves beside it", flush=True)
            return 0
        if len(argv) == 2 and argv[0] == "native":
            Path(argv[1]).write_text(render(native_values(load())))
            return 0
    except (SettingsError, GatewayConfigError, OSError) as error:
        print(f"gateway: {error}", file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
