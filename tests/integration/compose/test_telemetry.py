"""Compose's Jaeger and Prometheus: pinned to the native releases, reading configs that the
telemetry-config one-shot renders inside the vidmesh image's file layout, which the real Jaeger
and promtool (the native Go builds, same releases) accept."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from mesh.settings import load
from scripts.toolchain import JAEGER_IMAGE, PROMETHEUS_MODULE_VERSION, Toolchain
from tests.integration.compose.support import Service, volume_mount
from tests.integration.compose.test_gateway_config import run_renderer

FOLDER = "/etc/vidmesh-telemetry"


def test_images_are_the_native_releases(services: dict[str, Service]) -> None:
    assert services["jaeger"]["image"] == JAEGER_IMAGE
    # Prometheus's Go module v0.3MM.P is release 3.MM.P.
    minor, patch = re.fullmatch(r"v0\.3(\d\d)\.(\d+)", PROMETHEUS_MODULE_VERSION).groups()  # type: ignore[union-attr]
    assert services["prometheus"]["image"] == f"prom/prometheus:v3.{int(minor)}.{patch}"


def test_both_read_the_volume_the_renderer_writes(services: dict[str, Service]) -> None:
    renderer = services["telemetry-config"]
    assert renderer["command"] == ["python", "-m", "scripts.telemetry_config", "compose", FOLDER]
    for name in ("jaeger", "prometheus"):
        mount = volume_mount(services[name], FOLDER)
        assert mount["source"] == volume_mount(renderer, FOLDER)["source"] and mount.get("read_only"), name
        assert services[name]["depends_on"]["telemetry-config"]["condition"] == "service_completed_successfully"
    assert services["jaeger"]["command"] == ["--config", f"{FOLDER}/jaeger.yaml"]
    assert f"--config.file={FOLDER}/prometheus.yml" in services["prometheus"]["command"]


def test_services_send_spans_to_jaeger_and_serve_metrics_on_a_fixed_port(services: dict[str, Service]) -> None:
    for name in ("users", "video-query-1", "web-bff"):
        env = services[name]["environment"]
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4317" and env["VIDMESH_METRICS_PORT"] == "9464"


def test_the_rendered_configs_are_accepted_by_jaeger_and_promtool(services: dict[str, Service], tmp_path: Path) -> None:
    done, volume = run_renderer(services["telemetry-config"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    tools = Toolchain(load().cache_dir)
    jaeger = subprocess.run([str(tools.jaeger), "validate", "--config", str(volume / "jaeger.yaml")],
                            capture_output=True, text=True, timeout=120)
    assert jaeger.returncode == 0, jaeger.stdout + jaeger.stderr
    # The rules are named by their path in the folder the renderer was given (the volume's).
    config = yaml.safe_load((volume / "prometheus.yml").read_text())
    assert config["rule_files"] == [f"{volume}/rules/vidmesh.rules.yml"]
    assert config["scrape_configs"][0]["consul_sd_configs"][0]["server"] == "consul:8500"
    promtool = subprocess.run([str(tools.promtool), "check", "config", str(volume / "prometheus.yml")],
                              capture_output=True, text=True, timeout=120)
    assert promtool.returncode == 0, promtool.stdout + promtool.stderr
