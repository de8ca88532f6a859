"""docker-compose.yml runs what the native stack runs: checked through the real Compose
(`docker-compose config`, no engine needed) against scripts/devstack, mesh/topology.py,
settings.env and each service's own configuration loader."""

from __future__ import annotations

import importlib
import importlib.util
import re
import subprocess
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bff.common.config import load_upstreams
from mesh import config as mesh_config
from mesh import dbbootstrap, topology
from mesh.settings import ROOT, Settings, load, read_env_file
from scripts import compose_env
from scripts.codegen import GO_MAINS
from scripts.devstack.components import Component
from tests.integration.compose.support import ONE_SHOTS, Service, compose_name

LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
# Every vidmesh process: Compose service -> its command (the control plane, and each instance
# running its topology command: `python -m <module>`, or a Go binary that `make codegen` builds).
EXPECTED = {"xds": ("python", "-m", "mesh.xds"), **{
    compose_name(f"{entry.name}-{n}"): entry.command
    for entry in topology.SERVICES for n in range(load(environ={}).instances[entry.key])}}
ROLES = {entry.name: entry.database.role for entry in topology.SERVICES if entry.database}


def module_of(command: tuple[str, ...]) -> str:
    """The module of `python -m <module>`; "" for a command that is not Python."""
    return command[2] if command[:2] == ("python", "-m") else ""


def python_services(services: dict[str, Service]) -> dict[str, str]:
    """Compose service -> module, for the long-running vidmesh processes."""
    return {name: s["command"][2] for name, s in services.items()
            if s["command"] and s["command"][:2] == ["python", "-m"] and name not in ONE_SHOTS}


def vidmesh_services(services: dict[str, Service]) -> dict[str, tuple[str, ...]]:
    """Compose service -> command, for the long-running processes of the vidmesh image."""
    return {name: tuple(s["command"]) for name, s in services.items()
            if s.get("image") == "vidmesh:local" and s["command"] and name not in ONE_SHOTS}


def host_port(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host, int(port)


def test_compose_accepts_the_file() -> None:
    done = compose_env.compose("config", "--quiet")
    assert done.returncode == 0, done.stderr


def test_compose_refuses_what_the_specification_does_not_allow(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    text = compose_env.COMPOSE_FILE.read_text()
    broken.write_text(text.replace("  postgres:\n", "  postgres:\n    colour: blue\n", 1))
    done = subprocess.run([str(compose_env.compose_binary()), "--project-directory", str(ROOT), "-f", str(broken),
                           "config", "--quiet"], env=compose_env.compose_environ(), capture_output=True, text=True)
    assert done.returncode != 0 and "colour" in done.stderr, done.stderr


def test_every_native_process_has_a_compose_service(native: list[Component], services: dict[str, Service]) -> None:
    missing = {c.name for c in native if compose_name(c.name) not in services}
    assert not missing, f"the native stack runs {sorted(missing)}; docker-compose.yml does not"
    assert EXPECTED.items() <= vidmesh_services(services).items()


def test_each_instance_runs_the_native_module(native: list[Component], services: dict[str, Service]) -> None:
    for component in native:
        module = component.command[component.command.index("-m") + 1] if "-m" in component.command else ""
        # The SMTP sink is Mailpit in Compose; db-init runs the same SQL file with psql there.
        if module.startswith(("mesh.", "services.", "bff.")) and module != "mesh.dbbootstrap":
            arguments = component.command[component.command.index("-m"):]
            assert services[compose_name(component.name)]["command"] == ["python", *arguments], component.name


@pytest.mark.parametrize("command", sorted(set(EXPECTED.values())))
def test_every_command_compose_runs_exists(command: tuple[str, ...]) -> None:
    if module := module_of(command):
        assert importlib.util.find_spec(f"{module}.__main__"), f"python -m {module} has nothing to run"
    else:  # a Go service: the image's go-build stage runs `make codegen`'s build into gen/bin
        assert command[0] in {f"gen/bin/{name}" for name in GO_MAINS}, f"{command[0]} is built by no one"


def test_instances_follow_the_settings(settings: Settings, services: dict[str, Service]) -> None:
    modules = python_services(services)
    commands = vidmesh_services(services)
    for entry in topology.SERVICES:
        names = [name for name, command in commands.items() if command == entry.command]
        wanted = [entry.name, *(f"{entry.name}-{n}" for n in range(1, settings.instance_count(entry.key)))]
        assert sorted(names) == sorted(wanted), entry.name
        ports = [int(services[name]["environment"]["VIDMESH_GRPC_PORT"]) for name in wanted]
        assert ports == settings.instance_ports(entry.key)
    assert sorted(n for n, m in modules.items() if m == "services.video_query") == [
        "video-query", *(f"video-query-{n}" for n in range(1, settings.instance_count("video_query")))]


def own_loaders(module: str) -> list[Callable[[Mapping[str, str]], object]]:
    """A service's own settings loaders besides mesh.config (e.g. services/email/config.py)."""
    loaders: list[Callable[[Mapping[str, str]], object]] = []
    if module.startswith("bff."):
        loaders.append(partial(load_upstreams, next(e for e in topology.SERVICES if e.command[-1] == module)))
    if module and importlib.util.find_spec(f"{module}.config"):
        loaders.append(importlib.import_module(f"{module}.config").load)
    return loaders


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_environment_passes_the_service_loaders_and_names_compose_hosts(name: str,
                                                                         services: dict[str, Service]) -> None:
    service, module = services[name], module_of(EXPECTED[name])
    env = service["environment"]
    required = ["VIDMESH_DATABASE_URL"] if name in ROLES else []
    cfg = mesh_config.load(env, service_name=name, required=required)
    for loader in own_loaders(module):
        loader(env)
    addresses = [cfg.consul_http_addr, cfg.kafka_bootstrap, env["VIDMESH_SMTP_ADDR"]]
    for host, _ in map(host_port, addresses if name == "xds" else [*addresses, cfg.xds_addr]):
        assert host in services and host not in LOOPBACK, (name, host)
    # The control plane listens on VIDMESH_XDS_ADDR; a service listens on its gRPC port.
    listen = host_port(cfg.xds_addr) if name == "xds" else (cfg.grpc_host, cfg.grpc_port)
    assert listen[0] == "0.0.0.0" and [p["target"] for p in service["ports"]] == [listen[1]]
    assert service["healthcheck"]["test"] == ["CMD", "python", "-m", "mesh.health_probe", f"127.0.0.1:{listen[1]}"]
    if name != "xds":
        assert cfg.advertise_host == name, "Consul must register an address other containers can dial"


def test_every_instance_registers_a_name_that_resolves_to_it_alone(services: dict[str, Service]) -> None:
    # The mesh resolves VIDMESH_ADVERTISE_HOST to an IP when it registers (Envoy's EDS and
    # proxyless gRPC take IP literals only). Compose's DNS answers a service's name on each of
    # its networks with its containers' addresses: one container per service, so its own.
    registering = {name for name in vidmesh_services(services) if name != "xds" and name not in ONE_SHOTS}
    assert {"users", "video-query", "video-query-1", "mobile-bff"} <= registering
    for name in sorted(registering):
        service = services[name]
        assert service["environment"]["VIDMESH_ADVERTISE_HOST"] == name and DNS_LABEL.fullmatch(name), name
        assert "network_mode" not in service and list(service["networks"]) == ["default"], name
        assert service.get("scale", 1) == 1 and service.get("deploy", {}).get("replicas", 1) == 1, name


def test_every_mounted_file_and_the_build_context_exist(services: dict[str, Service]) -> None:
    for name, service in services.items():
        for volume in service.get("volumes", []):
            if volume["type"] == "bind":
                assert Path(volume["source"]).is_file(), f"{name} mounts missing {volume['source']}"
        if "build" in service:
            assert (Path(service["build"]["context"]) / service["build"]["dockerfile"]).is_file()


def test_addresses_reach_what_listens_there(services: dict[str, Service]) -> None:
    env = services["users"]["environment"]
    kafka = services["kafka"]["environment"]
    assert f"INTERNAL://{env['VIDMESH_KAFKA_BOOTSTRAP']}" in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert "INTERNAL://0.0.0.0:9092" in kafka["KAFKA_LISTENERS"].split(",")
    assert env["VIDMESH_CONSUL_HTTP_ADDR"] == "consul:8500" and "-client=0.0.0.0" in services["consul"]["command"]
    assert host_port(env["VIDMESH_XDS_ADDR"])[1] == host_port(services["xds"]["environment"]["VIDMESH_XDS_ADDR"])[1]
    assert 1025 in [p["target"] for p in services["mailpit"]["ports"]]


@pytest.mark.parametrize("name", sorted(ROLES))
def test_database_url_is_the_bootstrap_role(name: str, services: dict[str, Service]) -> None:
    url = urlsplit(services[name]["environment"]["VIDMESH_DATABASE_URL"])
    role = ROLES[name]
    assert (url.username, url.hostname, url.port, url.path) == (role, "postgres", 5432,
                                                               f"/{topology.databases()[role].name}")
    # The bootstrap sets the password the service connects with.
    expected = dbbootstrap.password(role, environ={})
    assert services["db-init"]["environment"][dbbootstrap.password_env(role)] == expected
    assert url.password == expected


def test_published_ports_bind_loopback_with_the_settings_numbers(settings: Settings,
                                                                services: dict[str, Service]) -> None:
    expected = {("envoy", 8080): settings.envoy_port, ("envoy", 9901): settings.envoy_admin_port,
                ("consul", 8500): settings.consul_http_port, ("postgres", 5432): settings.postgres_port,
                ("kafka", 9094): settings.kafka_port, ("mailpit", 1025): settings.smtp_port,
                ("mailpit", 8025): int(read_env_file(compose_env.ENV_FILE)["VIDMESH_MAIL_UI_PORT"]),
                ("xds", 18000): settings.xds_port}
    for entry in topology.SERVICES:
        for n, port in enumerate(settings.instance_ports(entry.key)):
            expected[(compose_name(f"{entry.name}-{n}"), port)] = port
    published = {(name, p["target"]): p for name, s in services.items() for p in s.get("ports", [])}
    assert expected.keys() <= published.keys()
    for key, port in published.items():
        assert port["host_ip"] == settings.host == "127.0.0.1", key
        assert int(port["published"]) == expected.get(key, port["target"]), key
