"""A service process's configuration, read once from the environment at start.

Every setting has a loopback default so `python -m services.users` works on a laptop with
the native stack; Docker Compose overrides them. A setting a service cannot run without
(e.g. its database URL) is required: a missing one fails at start with its name.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", "[::]", ""})


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class ServiceConfig:
    """What one service process needs to know about its surroundings."""

    service_name: str
    version: str
    grpc_host: str
    grpc_port: int
    advertise_host: str
    consul_http_addr: str
    kafka_bootstrap: str
    database_url: str | None
    xds_addr: str
    log_level: str
    shutdown_grace_s: float
    drain_s: float
    max_rpc_s: float
    topic_prefix: str = ""  # put before every topic name: tests run beside the stack's topics
    register: bool = True  # register in Consul (a tool or a test may serve unregistered)
    retention_s: float = 86400.0  # how long request ids, inbox rows and sent outbox rows are kept
    mtls: bool = True  # mutual TLS with certificates from Consul's CA, and intentions, on every call
    health_port: int = 0  # grpc.health.v1 in plaintext, on the listen host (0 = any free port)
    certs_dir: str = ""  # where the process writes its identity's files (a folder of its own inside)
    xds_mtls_addr: str = "127.0.0.1:18443"  # the control plane's ADS over mutual TLS (Envoy)
    metrics_port: int = 0  # where /metrics listens on grpc_host (0 = any free port; Consul says which)

    @property
    def consul_host_port(self) -> tuple[str, int]:
        """Consul's HTTP address split for py-consul (a `http://` prefix is allowed)."""
        host, port = _split_addr(self.consul_http_addr.removeprefix("http://"), "VIDMESH_CONSUL_HTTP_ADDR")
        return host, port

    def require_database_url(self) -> str:
        """The database URL, or ConfigError naming VIDMESH_DATABASE_URL when it is unset."""
        if not self.database_url:
            raise ConfigError("missing required setting VIDMESH_DATABASE_URL")
        return self.database_url


def require(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The value of a required variable; ConfigError naming it when it is missing or empty."""
    env = os.environ if environ is None else environ
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"missing required setting {name}")
    return value


def load(
    environ: Mapping[str, str] | None = None,
    *,
    service_name: str | None = None,
    required: Iterable[str] = (),
) -> ServiceConfig:
    """Read the configuration once. `service_name` is the default when VIDMESH_SERVICE_NAME
    is unset; every name in `required` must be set (e.g. VIDMESH_DATABASE_URL)."""
    env = os.environ if environ is None else environ
    for name in required:
        require(name, env)

    def get(name: str, default: str) -> str:
        return env.get(name, "").strip() or default

    host = get("VIDMESH_GRPC_HOST", "127.0.0.1")
    return ServiceConfig(
        service_name=get("VIDMESH_SERVICE_NAME", service_name or "") or require("VIDMESH_SERVICE_NAME", env),
        version=get("VIDMESH_SERVICE_VERSION", "1"),
        grpc_host=host,
        grpc_port=_port(get("VIDMESH_GRPC_PORT", "0"), "VIDMESH_GRPC_PORT"),
        advertise_host=get("VIDMESH_ADVERTISE_HOST", _advertised(host)),
        consul_http_addr=get("VIDMESH_CONSUL_HTTP_ADDR", "127.0.0.1:8500"),
        kafka_bootstrap=get("VIDMESH_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        database_url=get("VIDMESH_DATABASE_URL", "") or None,
        xds_addr=get("VIDMESH_XDS_ADDR", "127.0.0.1:18000"),
        log_level=get("VIDMESH_LOG_LEVEL", "info").lower(),
        shutdown_grace_s=_seconds(get("VIDMESH_SHUTDOWN_GRACE_SECONDS", "10"), "VIDMESH_SHUTDOWN_GRACE_SECONDS"),
        drain_s=_seconds(get("VIDMESH_DRAIN_SECONDS", "1"), "VIDMESH_DRAIN_SECONDS"),
        max_rpc_s=_seconds(get("VIDMESH_MAX_RPC_SECONDS", "30"), "VIDMESH_MAX_RPC_SECONDS"),
        topic_prefix=get("VIDMESH_TOPIC_PREFIX", ""),
        register=_flag(get("VIDMESH_CONSUL_REGISTER", "true"), "VIDMESH_CONSUL_REGISTER"),
        retention_s=_seconds(get("VIDMESH_RETENTION_SECONDS", "86400"), "VIDMESH_RETENTION_SECONDS"),
        mtls=_flag(get("VIDMESH_MTLS", "true"), "VIDMESH_MTLS"),
        health_port=_port(get("VIDMESH_HEALTH_PORT", "0"), "VIDMESH_HEALTH_PORT"),
        certs_dir=get("VIDMESH_CERTS_DIR", os.path.join(tempfile.gettempdir(), "vidmesh-certs")),
        xds_mtls_addr=get("VIDMESH_XDS_MTLS_ADDR", "127.0.0.1:18443"),
        metrics_port=_port(get("VIDMESH_METRICS_PORT", "0"), "VIDMESH_METRICS_PORT"),
    )


def _advertised(bind_host: str) -> str:
    # A wildcard bind (containers) is not an address anyone can dial: Consul's gRPC check
    # and the other services need the container's own name instead.
    return socket.gethostname() if bind_host in WILDCARD_HOSTS else bind_host


def _port(raw: str, name: str) -> int:
    if not raw.isdigit() or int(raw) > 65535:
        raise ConfigError(f"{name}={raw!r} is not a port number (0 picks any free port)")
    return int(raw)


def _flag(raw: str, name: str) -> bool:
    if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"{name}={raw!r} is not true or false")
    return raw.lower() in ("true", "1", "yes")


def _seconds(raw: str, name: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number of seconds") from None
    if value < 0:
        raise ConfigError(f"{name}={raw!r} must not be negative")
    return value


def _split_addr(addr: str, name: str) -> tuple[str, int]:
    host, sep, port = addr.rpartition(":")
    if not sep or not host:
        raise ConfigError(f"{name}={addr!r} is not host:port")
    return host.strip("[]"), _port(port, name)
