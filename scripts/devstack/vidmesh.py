"""vidmesh's own processes in the native stack: the database bootstrap, the xDS control
plane and every service instance, each with the environment mesh/config.py reads."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass

from mesh.dbbootstrap import service_dsn
from mesh.settings import ROOT, Settings
from scripts.devstack.components import Component
from scripts.devstack.layout import Layout
from scripts.toolchain import Toolchain


@dataclass(frozen=True)
class VidmeshService:
    """A service package and how the stack runs it."""

    name: str  # Consul name, kebab-case
    module: str  # `python -m <module>`, or for a Go service its package folder
    setting: str  # snake_case key of its port and instance count in settings.env
    database_role: str | None = None  # the Postgres role it connects as
    needs_xds: bool = False  # it calls other services through proxyless gRPC
    go_binary: str | None = None  # a Go service: its binary under gen/bin (`make codegen` builds it)

    @property
    def command(self) -> list[str]:
        """How the stack runs one instance."""
        if self.go_binary:
            return [str(ROOT / "gen" / "bin" / self.go_binary)]
        return [sys.executable, "-m", self.module]


SERVICES: tuple[VidmeshService, ...] = (
    VidmeshService("users", "services.users", "users", "users"),
    VidmeshService("video-command", "services.video_command", "video_command", "video_command"),
    VidmeshService("video-query", "services.video_query", "video_query", "video_query"),
    VidmeshService("notification", "services.notification", "notification", "notification"),
    VidmeshService("email", "services.email", "email", "email"),
    VidmeshService("web-bff", "bff.web", "web_bff", needs_xds=True),
    VidmeshService("mobile-bff", "bff.mobile", "mobile_bff", needs_xds=True),
    VidmeshService("recommendations", "services/recommendations", "recommendations", "recommendations",
                   go_binary="recommendations"),
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
        # Every gateway and BFF route depends on the one control plane: if it dies, it comes
        # back (its clients keep their last config meanwhile and reconnect).
        Component("xds", [sys.executable, "-m", "mesh.xds"], xds, grpc_health_probe(tools, xds),
                  depends_on=("consul",), env={**env, "VIDMESH_GRPC_HOST": s.host}, restart_on_failure=True),
    ]
    for service in SERVICES:
        for n, port in enumerate(s.instance_ports(service.setting)):
            address = f"{s.host}:{port}"
            instance_env = {**env, "VIDMESH_GRPC_HOST": s.host, "VIDMESH_GRPC_PORT": str(port)}
            if service.database_role:
                instance_env["VIDMESH_DATABASE_URL"] = service_dsn(service.database_role, s)
            depends = ("db-init", "kafka", "consul", *(("xds",) if service.needs_xds else ()))
            components.append(Component(f"{service.name}-{n}", service.command, address,
                                        grpc_health_probe(tools, address), depends_on=depends, env=instance_env))
    return components
