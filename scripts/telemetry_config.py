"""Render the tracing and metrics backends' configs (telemetry/*.yaml, templates) for where they run.

    python -m scripts.telemetry_config compose DIR   DIR/jaeger.yaml, DIR/prometheus.yml and
                                                     DIR/rules/ for Docker Compose

The native stack calls `native(...)` when it starts (scripts/devstack/prepare.py). Both
renderings come from the same templates and settings, as the gateway's do (scripts/gateway.py):
natively every listener binds VIDMESH_HOST on its settings port; under Compose each container
listens on the standard ports on all its interfaces, published on loopback by docker-compose.yml.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from string import Template

from mesh.settings import ROOT, Settings, SettingsError, load

TEMPLATES = ROOT / "telemetry"
JAEGER, PROMETHEUS, RULES = "jaeger.yaml", "prometheus.yml", "rules"
# The ports Jaeger and Prometheus listen on inside their containers (their own defaults).
COMPOSE_PORTS = {"OTLP_GRPC_PORT": 4317, "OTLP_HTTP_PORT": 4318, "QUERY_PORT": 16686, "QUERY_GRPC_PORT": 16685,
                 "HEALTH_PORT": 13133, "METRICS_PORT": 8888}
WORLD_READABLE = 0o644  # the Jaeger and Prometheus images run as users of their own


@dataclass(frozen=True)
class Rendered:
    """Both configs, as text."""

    jaeger: str
    prometheus: str


def native_values(s: Settings) -> tuple[dict[str, str], dict[str, str]]:
    """(Jaeger's, Prometheus's) values for the native stack: loopback, the settings' ports."""
    jaeger = {"LISTEN_HOST": s.host, "OTLP_GRPC_PORT": str(s.jaeger_otlp_grpc_port),
              "OTLP_HTTP_PORT": str(s.jaeger_otlp_http_port), "QUERY_PORT": str(s.jaeger_query_port),
              "QUERY_GRPC_PORT": str(s.jaeger_query_grpc_port), "HEALTH_PORT": str(s.jaeger_health_port),
              "METRICS_PORT": str(s.jaeger_metrics_port), "MAX_TRACES": str(s.jaeger_max_traces)}
    prometheus = {"CONSUL_ADDRESS": f"{s.host}:{s.consul_http_port}",
                  "ENVOY_ADMIN_ADDRESS": f"127.0.0.1:{s.envoy_admin_port}",  # the gateway's admin stays on loopback
                  "JAEGER_METRICS_ADDRESS": f"{s.host}:{s.jaeger_metrics_port}",
                  "RULES_DIR": str(TEMPLATES / RULES)}
    return jaeger, prometheus


def compose_values(s: Settings, folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(Jaeger's, Prometheus's) values under Compose: all interfaces, Compose host names."""
    jaeger = {"LISTEN_HOST": "0.0.0.0", **{key: str(port) for key, port in COMPOSE_PORTS.items()},
              "MAX_TRACES": str(s.jaeger_max_traces)}
    prometheus = {"CONSUL_ADDRESS": "consul:8500", "ENVOY_ADMIN_ADDRESS": "envoy:9901",
                  "JAEGER_METRICS_ADDRESS": f"jaeger:{COMPOSE_PORTS['METRICS_PORT']}",
                  "RULES_DIR": str(folder / RULES)}
    return jaeger, prometheus


def render(jaeger: dict[str, str], prometheus: dict[str, str]) -> Rendered:
    """Fill both templates; a missing value is a KeyError naming it."""
    return Rendered(jaeger=Template((TEMPLATES / JAEGER).read_text()).substitute(jaeger),
                    prometheus=Template((TEMPLATES / PROMETHEUS).read_text()).substitute(prometheus))


def native(s: Settings, folder: Path) -> dict[str, Path]:
    """Write the native stack's configs into `folder`; their paths by component."""
    rendered = render(*native_values(s))
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"jaeger": folder / JAEGER, "prometheus": folder / PROMETHEUS}
    paths["jaeger"].write_text(rendered.jaeger)
    paths["prometheus"].write_text(rendered.prometheus)
    return paths


def write_compose(folder: Path, s: Settings) -> list[Path]:
    """Write `folder`/jaeger.yaml, prometheus.yml and rules/ (the volume both containers mount)."""
    if not folder.is_dir():
        raise SettingsError(f"{folder} is not a folder: docker-compose.yml mounts the telemetry volume there")
    header = f"# Rendered by `python -m scripts.telemetry_config compose {folder}`; edit telemetry/, not this file.\n"
    rendered = render(*compose_values(s, folder))
    written = [_write(folder / JAEGER, header + rendered.jaeger),
               _write(folder / PROMETHEUS, header + rendered.prometheus)]
    (folder / RULES).mkdir(exist_ok=True)
    for rules in sorted((TEMPLATES / RULES).glob("*.rules.yml")):  # the rules, not their tests
        target = folder / RULES / rules.name
        shutil.copyfile(rules, target)
        target.chmod(WORLD_READABLE)
        written.append(target)
    return written


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(WORLD_READABLE)
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "compose":
        print(__doc__, file=sys.stderr)
        return 2
    try:
        for path in write_compose(Path(argv[1]), load()):
            print(f"telemetry: wrote {path}", flush=True)
    except (SettingsError, OSError) as error:
        print(f"telemetry: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
