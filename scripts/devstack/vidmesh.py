"""vidmesh's own processes in the native stack: the database bootstrap, the xDS control
plane and every service instance, each with the environment mesh/config.py reads.

As under Compose, every instance has an address and a name of its own: it binds its own
loopback address and advertises its name, which the stack's hosts map resolves
(mesh/addresses.py), so the name handling Compose needs is exercised by every native run."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass

from mesh.addresses import HOSTS_FILE_ENV
from mesh.dbbootstrap import service_dsn
from mesh.settings import ROOT, Settings, instance_name
from scripts.devstack.components import Component
from scripts.devstack.layout import Layout
from scripts.toolchain import Toolchain


@dataclass(frozen=True)
class VidmeshService:
    """A service package and how the stack runs it."""

    name: str  # Consul name, kebab-case
    module: str  # `python -m <module>`
    setting: str  # snake_case key of its port and instance count in settings.env
    database_role: str | None = None  # the Postgres role it connects as
    needs_xds: bool = False  # it calls other services through proxyless gRPC


SERVICES: tuple[VidmeshService, ...] = (
    VidmeshService("users", "services.users", "users", "users"),
    VidmeshService("video-command", "services.video_command", "video_command", "video_command"),
    VidmeshService("video-query", "services.video_query", "video_query", "video_query"),
    VidmeshService("notification", "services.notification", "notification", "notification"),
    VidmeshService("email", "services.email", "email", "email"),
    VidmeshService("web-bff", "bff.web", "web_bff", needs_xds=True),
    VidmeshService("mobile-bff", "bff.mobile", "mobile_bff", needs_xds=True),
)


def grpc_health_probe(tools: Toolchain, address: str) -> dict[str, object]:
    # grpcurl is a Go binary that starts in milliseconds; a Python probe per instance per
    # second would cost a core. grpcurl exits 0 for NOT_SERVING too, hence the grep.
    check = [str(tools.go_binary("grpcurl")), "-plaintext", "-max-time", "2", address, "grpc.health.v1.Health/Check"]
    return {"exec": {"command": f"{shlex.join(check)} | grep -q '\"SERVING\"'"}}


def common_env(s: Settings, layout: Layout) -> dict[str, str]:
    return {
        "VIDMESH_CONSUL_HTTP_ADDR": f"{s.host}:{s.consul_http_port}",
        "VIDMESH_KAFKA_BOOTSTRAP": f"{s.host}:{s.kafka_port}",
        "VIDMESH_XDS_ADDR": f"{s.host}:{s.xds_port}",
        "VIDMESH_SMTP_ADDR": f"{s.host}:{s.smtp_port}",
        "VIDMESH_DATA_DIR": str(s.data_dir),
        HOSTS_FILE_ENV: str(layout.hosts_file),
        "PYTHONUNBUFFERED": "1",
        # The generated contracts (`make protos`) are imported as top-level packages.
        "PYTHONPATH": f"{ROOT}:{ROOT / 'gen' / 'python'}",
    }


def vidmesh_processes(s: Settings, layout: Layout, tools: Toolchain) -> list[Component]:
    """db-init (one shot), the control plane, then every instance of every service."""
    env = common_env(s, layout)
    xds = f"{s.host}:{s.xds_port}"
    components = [
        Component("db-init", [sys.executable, "-m", "mesh.dbbootstrap"], f"{s.host}:{s.postgres_port}",
                  probe={}, depends_on=("postgres",), one_shot=True, env=env),
        # Every gateway and BFF route depends on the one control plane; if it dies its clients
        # keep their last config and reconnect once it is back.
        Component("xds", [sys.executable, "-m", "mesh.xds"], xds, grpc_health_probe(tools, xds),
                  depends_on=("consul",), env={**env, "VIDMESH_GRPC_HOST": s.host}),
    ]
    for service in SERVICES:
        for n, port in enumerate(s.instance_ports(service.setting)):
            host = s.instance_address(service.setting, n)
            address = f"{host}:{port}"
            instance_env = {**env, "VIDMESH_GRPC_HOST": host, "VIDMESH_GRPC_PORT": str(port),
                            "VIDMESH_ADVERTISE_HOST": instance_name(service.setting, n)}
            if service.database_role:
                instance_env["VIDMESH_DATABASE_URL"] = service_dsn(service.database_role, s)
            depends = ("db-init", "kafka", "consul", *(("xds",) if service.needs_xds else ()))
            components.append(Component(instance_name(service.setting, n), [sys.executable, "-m", service.module],
                                        address, grpc_health_probe(tools, address), depends_on=depends,
                                        env=instance_env))
    return components
