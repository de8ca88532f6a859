"""The one settings file (`settings.env`) with environment overrides.

Both the native stack and Docker Compose read `settings.env`; an environment variable of
the same name wins over the file. This module uses only the standard library because
`make deps` reads it before the virtual environment exists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from mesh import topology

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = ROOT / "settings.env"

# Each service's settings keys (VIDMESH_<KEY>_PORT, _INSTANCES), in the topology's order.
SERVICES = tuple(entry.key for entry in topology.SERVICES)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


def read_env_file(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines (comments and blank lines ignored) as Compose does."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise SettingsError(f"{path.name}:{number}: expected KEY=VALUE, got {raw!r}")
        values[key.strip()] = value.strip().strip("'\"")
    return values


@dataclass(frozen=True)
class Canary:
    """Extra instances of a service at another version (VIDMESH_<KEY>_CANARY_VERSION and
    _CANARY_INSTANCES), started after its stable ones; they take calls only as the traffic
    policy says (`make canary`)."""

    version: str
    instances: int


@dataclass(frozen=True)
class Settings:
    """Ports, folders and instance counts of the whole system."""

    host: str
    instance_network: str
    envoy_port: int
    envoy_admin_port: int
    consul_http_port: int
    consul_server_port: int
    consul_serf_port: int
    kafka_port: int
    kafka_controller_port: int
    postgres_port: int
    xds_port: int
    xds_mtls_port: int
    instance_health_port: int
    smtp_port: int
    stack_probe_port: int
    jaeger_otlp_grpc_port: int
    jaeger_otlp_http_port: int
    jaeger_query_port: int
    jaeger_query_grpc_port: int
    jaeger_health_port: int
    jaeger_metrics_port: int
    prometheus_port: int
    jaeger_max_traces: int
    postgres_user: str
    postgres_password: str
    web_origin: str
    gateway_rate_per_second: int
    gateway_login_burst: int
    gateway_max_body_bytes: int
    data_dir: Path
    log_dir: Path
    cache_dir: Path
    certs_dir: Path
    instances: dict[str, int]
    service_ports: dict[str, int]
    canaries: dict[str, Canary] = field(default_factory=dict)

    @property
    def run_dir(self) -> Path:
        """Rendered configs, sockets and pid files of the running stack."""
        return self.data_dir / "run"

    @property
    def operator_certs(self) -> Path:
        """The developer's identity (ca.pem, cert.pem, key.pem) while the stack runs."""
        return self.certs_dir / "operator"

    @property
    def gateway_certs(self) -> Path:
        """Envoy's identity, for its ADS stream to the control plane."""
        return self.certs_dir / "gateway"

    def ports(self) -> list[tuple[str, str, str, int]]:
        """Every address the stack binds: (process, setting name, host, port)."""
        owners = {
            "envoy_port": "envoy", "envoy_admin_port": "envoy admin",
            "consul_http_port": "consul", "consul_server_port": "consul", "consul_serf_port": "consul",
            "kafka_port": "kafka", "kafka_controller_port": "kafka controller",
            "postgres_port": "postgres", "smtp_port": "smtp-sink", "stack_probe_port": "prober",
            **{f"jaeger_{name}_port": "jaeger" for name in ("otlp_grpc", "otlp_http", "query", "query_grpc",
                                                           "health", "metrics")},
            "prometheus_port": "prometheus",
        }
        infra = [(owner, f"VIDMESH_{name.upper()}", self.host, getattr(self, name)) for name, owner in owners.items()]
        services = [(instance_name(service, n), f"VIDMESH_{service.upper()}_PORT",
                     self.instance_address(service, n), port)
                    for service in SERVICES for n, port in enumerate(self.instance_ports(service))]
        health = [(f"{instance_name(service, n)} health", "VIDMESH_INSTANCE_HEALTH_PORT",
                   self.instance_address(service, n), self.instance_health_port)
                  for service in SERVICES for n in range(self.instances[service])]
        xds = [("xds", "VIDMESH_XDS_PORT", self.host, self.xds_port),
               ("xds", "VIDMESH_XDS_MTLS_PORT", self.host, self.xds_mtls_port),
               ("xds health", "VIDMESH_INSTANCE_HEALTH_PORT", self.host, self.instance_health_port)]
        return [*infra, *xds, *services, *health]

    def instance_count(self, service: str) -> int:
        """How many instances of a service (snake_case name) the stacks start, canaries included."""
        canary = self.canaries.get(service)
        return self.instances[service] + (canary.instances if canary else 0)

    def instance_version(self, service: str, n: int) -> str | None:
        """The version instance `n` registers: a canary's, or None (the service's default)."""
        canary = self.canaries.get(service)
        return canary.version if canary and n >= self.instances[service] else None

    def instance_ports(self, service: str) -> list[int]:
        """The gRPC port of each instance of a service (snake_case name): PORT, PORT+1, ...
        (the canaries after the stable instances)."""
        base = self.service_ports[service]
        return [base + n for n in range(self.instance_count(service))]

    def instance_address(self, service: str, n: int) -> str:
        """The loopback address instance `n` of a service binds natively: its own, as a
        container has under Compose. Service number S (SERVICES order, from 1), instance N
        binds `{instance_network}.S.N+1`, so adding an instance moves no other one."""
        return f"{self.instance_network}.{SERVICES.index(service) + 1}.{n + 1}"

    def instance_names(self) -> dict[str, str]:
        """Host name -> address of every service instance: the stack's own hosts map."""
        return {instance_name(service, n): self.instance_address(service, n)
                for service in SERVICES for n in range(self.instance_count(service))}


def instance_name(service: str, n: int) -> str:
    """The process and host name of instance `n` of a service (snake_case): `video-query-1`."""
    return f"{service.replace('_', '-')}-{n}"


def _path(value: str) -> Path:
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else ROOT / path


def load(environ: dict[str, str] | None = None, path: Path = SETTINGS_FILE) -> Settings:
    """Read `settings.env`, apply environment overrides and check every value."""
    env = os.environ if environ is None else environ
    values = read_env_file(path)
    values.update({k: v for k, v in env.items() if k.startswith("VIDMESH_")})

    def get(key: str) -> str:
        name = f"VIDMESH_{key.upper()}"
        if not values.get(name):
            raise SettingsError(f"missing setting {name} (set it in settings.env or the environment)")
        return values[name]

    def port(key: str) -> int:
        raw = get(key)
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise SettingsError(f"VIDMESH_{key.upper()}={raw!r} is not a port number")
        return int(raw)

    def count(key: str) -> int:
        raw = get(key)
        if not raw.isdigit():
            raise SettingsError(f"VIDMESH_{key.upper()}={raw!r} is not a whole number")
        return int(raw)

    def canary(service: str) -> Canary | None:
        version = values.get(f"VIDMESH_{service.upper()}_CANARY_VERSION", "").strip().removeprefix("v")
        if not version:
            return None
        if not version.replace(".", "").isalnum():
            raise SettingsError(f"VIDMESH_{service.upper()}_CANARY_VERSION={version!r} is not a version such as 2")
        return Canary(version=version, instances=count(f"{service}_canary_instances"))

    kwargs: dict[str, object] = {}
    for each in fields(Settings):
        if each.name.endswith("_port"):
            kwargs[each.name] = port(each.name)
        elif each.name.endswith("_dir"):
            kwargs[each.name] = _path(get(each.name))
    return Settings(
        host=get("host"),
        instance_network=get("instance_network"),
        postgres_user=get("postgres_user"),
        postgres_password=get("postgres_password"),
        web_origin=get("web_origin"),
        jaeger_max_traces=count("jaeger_max_traces"),
        gateway_rate_per_second=count("gateway_rate_per_second"),
        gateway_login_burst=count("gateway_login_burst"),
        gateway_max_body_bytes=count("gateway_max_body_bytes"),
        instances={service: count(f"{service}_instances") for service in SERVICES},
        service_ports={service: port(f"{service}_port") for service in SERVICES},
        canaries={service: found for service in SERVICES if (found := canary(service)) is not None},
        **kwargs,  # type: ignore[arg-type]
    )
