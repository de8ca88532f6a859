"""The gateway's Envoy config: one template, rendered for the native stack and for Compose,
each accepted by the real Envoy 1.40 (`envoy --mode validate`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from mesh.settings import load
from scripts import gateway
from scripts.toolchain import Toolchain


def _validate(config: Path) -> subprocess.CompletedProcess[str]:
    envoy = Toolchain(load().cache_dir).envoy
    return subprocess.run([str(envoy), "--mode", "validate", "-c", str(config), "--log-level", "critical"],
                          capture_output=True, text=True, timeout=60)


def test_native_config_is_valid_envoy(tmp_path: Path) -> None:
    config = tmp_path / "envoy.yaml"
    config.write_text(gateway.render(gateway.native_values(load(environ={}))))
    result = _validate(config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_config_is_the_committed_rendering_and_valid(tmp_path: Path) -> None:
    committed = gateway.COMPOSE_CONFIG.read_text()
    assert committed == gateway.compose_rendering(), "run `python -m scripts.gateway compose`"
    # In Compose the descriptor set and the web files are mounted under /etc/envoy; here
    # they are in gen/ and web/dist.
    config = tmp_path / "envoy.compose.yaml"
    config.write_text(committed.replace(gateway.COMPOSE_DESCRIPTOR, str(gateway.DESCRIPTOR))
                      .replace(gateway.COMPOSE_WEB_ROOT, str(gateway.WEB_ROOT))
                      .replace(gateway.COMPOSE_OPENAPI_DOCUMENT, str(gateway.OPENAPI_DOCUMENT)))
    result = _validate(config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_admin_stays_on_loopback_natively() -> None:
    config = yaml.safe_load(gateway.render(gateway.native_values(load(environ={}))))
    assert config["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"


def test_no_service_address_is_written_in_the_config() -> None:
    # Only the control plane, the gateway's own file listener and the gateway itself are
    # static clusters; services come over ADS.
    config = yaml.safe_load(gateway.render(gateway.native_values(load(environ={}))))
    clusters = [c["name"] for c in config["static_resources"]["clusters"]]
    assert clusters == ["xds_cluster", "static_files", "gateway_self"]
