"""The gateway's Envoy config: one template, rendered for the native stack and accepted by the
real Envoy 1.40 (`envoy --mode validate`). Its Compose rendering, made when the Compose stack
starts, is checked in tests/integration/compose/test_gateway_config.py."""

from __future__ import annotations

import json
import re
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
    settings = load(environ={"VIDMESH_DATA_DIR": str(tmp_path / "data"), "VIDMESH_CERTS_DIR": str(tmp_path / "certs")})
    settings.run_dir.mkdir(parents=True)
    gateway.write_sds(settings.run_dir, settings.gateway_certs)  # the stack writes them beside envoy.yaml
    config = settings.run_dir / "envoy.yaml"
    config.write_text(gateway.render(gateway.native_values(settings)))
    result = _validate(config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_control_plane_is_reached_over_mutual_tls_checking_its_spiffe_id() -> None:
    settings = load(environ={})
    config = yaml.safe_load(gateway.render(gateway.native_values(settings)))
    xds = next(c for c in config["static_resources"]["clusters"] if c["name"] == "xds_cluster")
    address = xds["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]
    assert address["port_value"] == settings.xds_mtls_port
    common = xds["transport_socket"]["typed_config"]["common_tls_context"]
    [matcher] = common["combined_validation_context"]["default_validation_context"]["match_typed_subject_alt_names"]
    assert matcher["san_type"] == "URI"
    pattern = re.compile(matcher["matcher"]["safe_regex"]["regex"])
    assert pattern.fullmatch("spiffe://0a1b2c3d-0000-4000-8000-000000000000.consul/ns/default/dc/dc1/svc/xds")
    assert not pattern.fullmatch("spiffe://0a1b2c3d-0000-4000-8000-000000000000.consul/ns/default/dc/dc1/svc/users")


def test_the_sds_files_name_the_gateway_identity_and_watch_its_folder(tmp_path: Path) -> None:
    files = {name: json.loads(text) for name, text in gateway.sds_files(tmp_path / "gateway").items()}
    [identity] = files["gateway-identity.yaml"]["resources"]
    assert identity["tls_certificate"]["certificate_chain"]["filename"] == str(tmp_path / "gateway" / "cert.pem")
    assert identity["tls_certificate"]["private_key"]["filename"] == str(tmp_path / "gateway" / "key.pem")
    assert identity["tls_certificate"]["watched_directory"]["path"] == str(tmp_path / "gateway")
    [roots] = files["mesh-roots.yaml"]["resources"]
    assert roots["validation_context"]["trusted_ca"]["filename"] == str(tmp_path / "gateway" / "ca.pem")


def test_admin_stays_on_loopback_natively() -> None:
    config = yaml.safe_load(gateway.render(gateway.native_values(load(environ={}))))
    assert config["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"


def test_no_service_address_is_written_in_the_config() -> None:
    # Only the control plane, the gateway's own file listener, the tracing backend and the
    # gateway itself are static clusters; services come over ADS.
    config = yaml.safe_load(gateway.render(gateway.native_values(load(environ={}))))
    clusters = [c["name"] for c in config["static_resources"]["clusters"]]
    assert clusters == ["xds_cluster", "static_files", "jaeger_otlp", "gateway_self"]


def test_spans_go_to_jaegers_otlp_port_and_are_named_by_route() -> None:
    s = load(environ={})
    config = yaml.safe_load(gateway.render(gateway.native_values(s)))
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    tracing = manager["tracing"]
    assert tracing["provider"]["typed_config"]["grpc_service"]["envoy_grpc"]["cluster_name"] == "jaeger_otlp"
    # The transcoded gRPC method, not "ingress", nor %PATH%, the REST path with its ids.
    assert tracing["operation"] == "%REQ(:METHOD)% %REQ(:PATH)%"
    assert tracing["upstream_operation"] == "%UPSTREAM_CLUSTER% %REQ(:PATH)%"
    jaeger = next(c for c in config["static_resources"]["clusters"] if c["name"] == "jaeger_otlp")
    address = jaeger["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]
    assert (address["address"], address["port_value"]) == (s.host, s.jaeger_otlp_grpc_port)
