"""vidmesh's own processes in the native stack: the database bootstrap, the intentions, the
identity files of Envoy and the developer, the xDS control plane and every service
instance, each with the environment mesh/config.py reads.

As under Compose, every instance has an address and a name of its own: it binds its own
loopback address and advertises its name, which the stack's hosts map resolves
(mesh/addresses.py), so the name handling Compose needs is exercised by every native run."""

from __future__ import annotations

import sys

from mesh import topology
from mesh.addresses import HOSTS_FILE_ENV
from mesh.dbbootstrap import dsn
from mesh.policy import OPERATOR
from mesh.settings import ROOT, Settings, instance_name
from scripts.devstack.components import Component, checked
from scripts.devstack.layout import Layout
from scripts.toolchain import Toolchain


def command(service: topology.Service) -> list[str]:
    """The topology's command, with this interpreter for `python` (the stack's venv)."""
    return [sys.executable if word == "python" else word for word in service.command]


def needs(service: topology.Service) -> tuple[str, ...]:
    """What an instance waits for before it starts: the registry and its intentions, its
    database's bootstrap, the broker if it has topics, the control plane if it calls anyone,
    the mail server."""
    return ("consul", "intentions", *(("db-init",) if service.database else ()),
            *(("kafka",) if service.produces or service.consumes else ()),
            *(("xds",) if service.calls else ()), *(("smtp-sink",) if service.sends_mail else ()))


def common_env(s: Settings, layout: Layout) -> dict[str, str]:
    return {
        "VIDMESH_CONSUL_HTTP_ADDR": f"{s.host}:{s.consul_http_port}",
        "VIDMESH_KAFKA_BOOTSTRAP": f"{s.host}:{s.kafka_port}",
        "VIDMESH_XDS_ADDR": f"{s.host}:{s.xds_port}",
        "VIDMESH_XDS_MTLS_ADDR": f"{s.host}:{s.xds_mtls_port}",
        "VIDMESH_HEALTH_PORT": str(s.instance_health_port),
        "VIDMESH_CERTS_DIR": str(layout.process_certs),
        "VIDMESH_SMTP_ADDR": f"{s.host}:{s.smtp_port}",
        # Spans go to this stack's Jaeger (OpenTelemetry's default, 4317, is another stack's
        # when the ports are shifted).
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{s.host}:{s.jaeger_otlp_grpc_port}",
        "VIDMESH_DATA_DIR": str(s.data_dir),
        HOSTS_FILE_ENV: str(layout.hosts_file),
        "PYTHONUNBUFFERED": "1",
        "PYTHONFAULTHANDLER": "1",  # a crash in a C extension (grpc) prints the Python stack in the log
        # The generated contracts (`make protos`) are imported as top-level packages.
        "PYTHONPATH": f"{ROOT}:{ROOT / 'gen' / 'python'}",
    }


def identities(s: Settings, env: dict[str, str]) -> list[Component]:
    """The intentions (a one-shot, run again if it fails) and the identity files kept for Envoy
    and the developer (ready once both are written)."""
    consul = f"{s.host}:{s.consul_http_port}"
    written = " && ".join(f"test -s {folder / name}" for folder in (s.gateway_certs, s.operator_certs)
                          for name in ("cert.pem", "key.pem", "ca.pem"))
    return [
        Component("intentions", [sys.executable, "-m", "mesh.policy"], consul, probe={}, depends_on=("consul",),
                  one_shot=True, retries=2, env=env),
        Component("certs", [sys.executable, "-m", "mesh.certs", "keep", str(s.certs_dir), topology.GATEWAY,
                            OPERATOR], consul, {"exec": {"command": written}}, depends_on=("consul",), env=env),
    ]


def vidmesh_processes(s: Settings, layout: Layout, tools: Toolchain) -> list[Component]:
    """db-init (one shot), the intentions, the identity files, the control plane, then every
    instance of every service."""
    env = common_env(s, layout)
    xds = f"{s.host}:{s.xds_mtls_port}"
    components = [
        Component("db-init", [sys.executable, "-m", "mesh.dbbootstrap"], f"{s.host}:{s.postgres_port}",
                  probe={}, depends_on=("postgres",), one_shot=True, env=env),
        *identities(s, env),
        # Every gateway and BFF route depends on the one control plane; if it dies its clients
        # keep their last config and reconnect once it is back.
        Component("xds", [sys.executable, "-m", "mesh.xds"], xds, checked(s, "xds"),
                  check=("grpc", f"{s.host}:{s.instance_health_port}"), depends_on=("consul", "intentions"),
                  env={**env, "VIDMESH_GRPC_HOST": s.host}),
    ]
    if s.canaries:
        # Before any canary registers: a resolver whose default is the stable version, so a
        # canary takes no call until `make canary` (python -m mesh.traffic).
        components.append(Component("traffic-init", [sys.executable, "-m", "mesh.traffic", "keep-dark"],
                                    f"{s.host}:{s.consul_http_port}", probe={}, depends_on=("consul",),
                                    one_shot=True, env=env))
    for service in topology.SERVICES:
        for n, port in enumerate(s.instance_ports(service.key)):
            host = s.instance_address(service.key, n)
            address = f"{host}:{port}"
            instance_env = {**env, "VIDMESH_GRPC_HOST": host, "VIDMESH_GRPC_PORT": str(port),
                            "VIDMESH_ADVERTISE_HOST": instance_name(service.key, n)}
            if service.database:
                instance_env["VIDMESH_DATABASE_URL"] = dsn(service.database.role, s)
            version = s.instance_version(service.key, n)
            if version:
                instance_env["VIDMESH_SERVICE_VERSION"] = version
            name = instance_name(service.key, n)
            components.append(Component(name, command(service), address, checked(s, name),
                                        check=("grpc", f"{host}:{s.instance_health_port}"),
                                        depends_on=(*needs(service), *(("traffic-init",) if version else ())),
                                        env=instance_env))
    return components
