"""A root rotation while writes and reads flow through the gateway: no request fails, and
afterwards every process presents a leaf of the new root, with no restart.

`consul connect ca set-config` with a new key makes Consul sign a new root and cross-sign it
with the old one; every agent's leaf query then answers early with a new leaf (within ~30 s,
Consul spreads them), and the roots query at once. During the switch a peer may present either
generation: both chain to a root every process trusts (the roots list keeps the old one).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mesh.identity_files import IdentityFolder
from mesh.settings import Settings
from scripts.toolchain import Toolchain
from tests.e2e.conftest import World
from tests.e2e.support.load import Call, Load
from tests.e2e.support.rest import Gateway, new_id, ok
from tests.e2e.support.waiting import eventually
from tests.integration.identity.support import served_leaf, stack_targets

NEW_LEAVES_S = 90.0  # Consul spreads the new leaves over ~30 s; grpc re-reads files every 5 s


def _writes_and_reads(world: World) -> list[tuple[str, Call]]:
    def write(client: Gateway, _: int) -> str | None:
        answer = ok(client.post(f"/api/web/v1/videos/{world.video_id}/views", {"requestId": new_id()}))
        return None if int(answer["version"]) > 0 else f"no version in {answer}"

    def read(client: Gateway, _: int) -> str | None:
        page = ok(client.get(f"/api/web/v1/videos/{world.video_id}"))
        return None if page["video"]["card"]["videoId"] == world.video_id else f"wrong video {page}"

    def home(client: Gateway, _: int) -> str | None:
        ok(client.get("/api/mobile/v1/feed"))
        return None

    return [("POST views (web-bff -> video-command)", write), ("GET video page (web-bff -> four services)", read),
            ("GET mobile feed (mobile-bff)", home)]


def _rotate(settings: Settings, folder: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    config = folder / "ca.json"
    config.write_text(json.dumps({"Provider": "consul", "Config": {"PrivateKey": key.decode()}}))
    consul = Toolchain(settings.cache_dir).consul
    address = f"-http-addr={settings.host}:{settings.consul_http_port}"
    subprocess.run([str(consul), "connect", "ca", "set-config", address, f"-config-file={config}"], check=True,
                   capture_output=True, timeout=30)


def _active_root(settings: Settings) -> x509.Certificate:
    roots = httpx.get(f"http://{settings.host}:{settings.consul_http_port}/v1/agent/connect/ca/roots", timeout=5).json()
    [active] = [root for root in roots["Roots"] if root["Active"]]
    return x509.load_pem_x509_certificate(active["RootCert"].encode())


def _signed_by(leaf_pem: bytes, root: x509.Certificate) -> bool:
    try:
        x509.load_pem_x509_certificate(leaf_pem).verify_directly_issued_by(root)
    except (InvalidSignature, ValueError):
        return False
    return True


def _stale(settings: Settings, operator: IdentityFolder, root: x509.Certificate) -> list[str]:
    """The processes still presenting a leaf the new root did not sign."""
    stale = [target.name for target in stack_targets(settings)
             if not _signed_by(served_leaf(target.address, operator).public_bytes(serialization.Encoding.PEM), root)]
    if not _signed_by(operator.cert.read_bytes(), root):
        stale.append("operator files")
    envoy = httpx.get(f"http://127.0.0.1:{settings.envoy_admin_port}/certs", timeout=5).json()
    gateway = httpx.get(f"http://{settings.host}:{settings.consul_http_port}/v1/agent/connect/ca/leaf/gateway",
                        timeout=5).json()
    if not _signed_by(gateway["CertPEM"].encode(), root) or any(
            cert["serial_number"] != gateway["SerialNumber"] for context in envoy["certificates"]
            for cert in context.get("cert_chain", [])):
        stale.append("envoy")
    return stale


def test_a_root_rotation_under_load_fails_no_request_and_every_process_serves_the_new_leaf(
        gateway: Gateway, world: World, settings: Settings, operator: IdentityFolder, tmp_path: Path) -> None:
    before = _active_root(settings)
    load = Load(str(gateway.http.base_url), [_writes_and_reads(world), _writes_and_reads(world)])
    with load:
        eventually(lambda: load.report.total >= 30, "requests flowing before the rotation")
        _rotate(settings, tmp_path)
        root = _active_root(settings)
        assert root != before, "the root did not rotate"
        eventually(lambda: not _stale(settings, operator, root), "every process on a leaf of the new root",
                   timeout=NEW_LEAVES_S, interval=2.0)
        after = load.report.total
        eventually(lambda: load.report.total >= after + 30, "requests after the rotation")
    report = load.report
    print(f"\nroot rotation: {report.total} requests ok, {len(report.failures)} failed")
    assert report.failures == [], report.failures[:10]
