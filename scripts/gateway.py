"""Render the gateway's Envoy config (gateway/envoy.yaml, a template) for where it runs.

    python -m scripts.gateway native PATH     the native stack's config (the dev stack calls render())
    python -m scripts.gateway compose         rewrite gateway/envoy.compose.yaml from the template

Both renderings come from one template and the same settings, so they cannot drift apart:
a test renders the Compose one again and compares it with the committed file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from string import Template

from mesh.settings import ROOT, Settings, load

TEMPLATE = ROOT / "gateway" / "envoy.yaml"
COMPOSE_CONFIG = ROOT / "gateway" / "envoy.compose.yaml"
DESCRIPTOR = ROOT / "gen" / "vidmesh.binpb"
COMPOSE_DESCRIPTOR = "/etc/envoy/vidmesh.binpb"  # copied out of the vidmesh image by docker-compose.yml
WEB_ROOT = ROOT / "web" / "dist"  # `make up` builds it (scripts/webapp.py)
OPENAPI_DOCUMENT = ROOT / "gen" / "openapi" / "openapi.json"  # `make codegen` writes it (scripts/openapi)
COMPOSE_WEB_ROOT = "/etc/envoy/dist"  # copied out of the vidmesh image, like the descriptor set
COMPOSE_OPENAPI_DOCUMENT = "/etc/envoy/openapi.json"


def _policy(s: Settings) -> dict[str, str]:
    return {
        "WEB_ORIGIN": s.web_origin,
        "RATE_BURST": str(s.gateway_rate_per_second),
        "LOGIN_BURST": str(s.gateway_login_burst),
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
        "XDS_PORT": str(s.xds_port),
        "DESCRIPTOR": str(DESCRIPTOR),
        "WEB_ROOT": str(WEB_ROOT),
        "OPENAPI_DOCUMENT": str(OPENAPI_DOCUMENT),
    }


def compose_values(s: Settings) -> dict[str, str]:
    """Container ports and Compose host names; docker-compose.yml publishes them on loopback."""
    return {
        **_policy(s),
        "ADMIN_ADDRESS": "0.0.0.0",
        "ADMIN_PORT": "9901",
        "LISTEN_ADDRESS": "0.0.0.0",
        "LISTEN_PORT": "8080",
        "SELF_ADDRESS": "127.0.0.1",
        "XDS_ADDRESS": "xds",
        "XDS_PORT": "18000",
        "DESCRIPTOR": COMPOSE_DESCRIPTOR,
        "WEB_ROOT": COMPOSE_WEB_ROOT,
        "OPENAPI_DOCUMENT": COMPOSE_OPENAPI_DOCUMENT,
    }


def render(values: dict[str, str]) -> str:
    return Template(TEMPLATE.read_text()).substitute(values)


def compose_rendering() -> str:
    header = "# GENERATED from gateway/envoy.yaml by `python -m scripts.gateway compose`; do not edit.\n"
    return header + render(compose_values(load(environ={})))


def main(argv: list[str]) -> int:
    if argv[:1] == ["compose"]:
        COMPOSE_CONFIG.write_text(compose_rendering())
        print(f"wrote {COMPOSE_CONFIG.relative_to(ROOT)}")
        return 0
    if len(argv) == 2 and argv[0] == "native":
        Path(argv[1]).write_text(render(native_values(load())))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
