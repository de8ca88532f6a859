"""MESH.md §13 Identity: the API port refuses plaintext, and a caller with a valid
certificate of the mesh's CA that no intention allows gets PERMISSION_DENIED naming it."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from pathlib import Path

from mesh.certs import issue
from mesh.settings import Settings
from scripts.toolchain import Toolchain
from tests.conformance.kit.failure import expect
from tests.conformance.kit.target import IDENTITY, Target

SECTION = IDENTITY
HEALTH_CHECK = "grpc.health.v1.Health/Check"
GRPCURL_TIMEOUT_S = 5


def _grpcurl(settings: Settings, target: Target, tls: list[str]) -> subprocess.CompletedProcess[str]:
    binary = Toolchain(settings.cache_dir).go_binary("grpcurl")
    return subprocess.run([str(binary), *tls, "-max-time", str(GRPCURL_TIMEOUT_S), "-d", "{}", target.address,
                           HEALTH_CHECK], capture_output=True, text=True, timeout=GRPCURL_TIMEOUT_S + 25, check=False)


def _as(folder: Path) -> list[str]:
    # -insecure: grpcurl cannot check a SPIFFE id; the server checks the client's certificate.
    return ["-insecure", "-cert", str(folder / "cert.pem"), "-key", str(folder / "key.pem")]


def check_refuses_plaintext(target: Target, settings: Settings) -> None:
    """Health over plaintext at the API port fails; the same call as the operator answers."""
    plaintext = _grpcurl(settings, target, ["-plaintext"])
    expect(plaintext.returncode != 0, target, SECTION, f"answered a plaintext call: {plaintext.stdout.strip()}")
    operator = _grpcurl(settings, target, _as(settings.operator_certs))
    expect(operator.returncode == 0, target, SECTION,
           f"refused the operator's certificate over mutual TLS: {operator.stderr.strip()[:300]}")


def check_refuses_a_caller_no_intention_allows(target: Target, settings: Settings, folder: Path) -> None:
    """A certificate the mesh's CA issued for a made-up service is refused with
    PERMISSION_DENIED naming its SPIFFE id and the service."""
    name = f"kit-stranger-{uuid.uuid4().hex[:8]}"
    asyncio.run(issue(f"{settings.host}:{settings.consul_http_port}", folder, [name]))
    refused = _grpcurl(settings, target, _as(folder / name))
    said = (refused.stdout + refused.stderr).strip()
    expect(refused.returncode != 0 and "PermissionDenied" in said, target, SECTION,
           f"a certificate of the mesh's CA for {name!r}, which no intention allows, was not refused with "
           f"PERMISSION_DENIED: {said[:300]}")
    expect(f"/svc/{name} may not call {target.entry.name}" in said, target, SECTION,
           f"the refusal does not name the caller's SPIFFE id and the service: {said[:300]}")
