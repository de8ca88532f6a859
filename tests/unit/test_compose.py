"""docker-compose.yml runs what the native stack runs: checked through the real Compose
(`docker-compose config`, no engine needed) against scripts/devstack, settings.env and each
service's own configuration loader."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bff.common.config import load_upstreams
from mesh import config as mesh_config
from mesh import dbbootstrap
from mesh.settings import ROOT, Settings, load, read_env_file
from scripts import compose_env
from scripts.devstack.components import Component
from scripts.devstack.vidmesh import SERVICES
from tests.compose_support import Service, compose_name, compose_services, native_components

LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
# Every vidmesh process of the issue, even before the devstack lists it: Compose service -> module.
EXPECTED = {"xds": "mesh.xds", "users": "services.users", "video-command": "services.video_command",
            "video-query": "services.video_query", "video-query-1": "services.video_query",
            "notification": "services.notification", "email": "services.email",
            "web-bff": "bff.web", "mobile-bff": "bff.mobile"}
# The Go services: Compose service -> the binary its image runs (the native stack's go_binary).
GO_EXPECTED = {"recommendations": "recommendations"}
ROLES = {"users": "users", "video-command": "video_command", "video-query": "video_query",
         "notification": "notification", "email": "email", "recommendations": "recommendations"}


@pytest.fixture(scope="module")
def services() -> dict[str, Service]:
    return compose_services()


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load(environ={})


@pytest.fixture(scope="module")
def native(settings: Settings) -> list[Component]:
    return native_components(settings)


def python_services(services: dict[str, Service]) -> dict[str, str]:
    """Compose service -> module, for the long-running vidmesh processes."""
    return {name: s["command"][2] for name, s in services.items()
            if s["command"] and s["command"][:2] == ["python", "-m"]}


def go_services(services: dict[str, Service]) -> dict[str, str]:
    """Compose service -> binary name, for the vidmesh Go services (one binary at the image root)."""
    return {name: s["command"][0].removeprefix("/") for name, s in services.items()
            if s.get("build", {}).get("target") and s["command"] and s["command"][0].startswith("/")}


def runs(services: dict[str, Service]) -> dict[str, str]:
    """Compose service -> what it runs: a Python module or a Go binary."""
    return {**python_services(services), **go_services(services)}


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
    assert EXPECTED.items() <= python_services(services).items()
    assert GO_EXPECTED.items() <= go_services(services).items()


def test_each_instance_runs_the_native_module(native: list[Component], services: dict[str, Service]) -> None:
    for component in native:
        module = component.command[component.command.index("-m") + 1] if "-m" in component.command else ""
        # The SMTP sink is Mailpit in Compose; db-init runs the same SQL file with psql there.
        if module.startswith(("mesh.", "services.", "bff.")) and module != "mesh.dbbootstrap":
            assert services[compose_name(component.name)]["command"] == ["python", "-m", module], component.name
    for vs in (vs for vs in SERVICES if vs.go_binary):
        assert go_services(services)[vs.name] == vs.go_binary == Path(vs.command[0]).name, vs.name


@pytest.mark.parametrize("module", sorted(set(EXPECTED.values())))
def test_every_module_compose_runs_exists(module: str) -> None:
    assert importlib.util.find_spec(f"{module}.__main__"), f"python -m {module} has nothing to run"


def test_instances_follow_the_settings(settings: Settings, services: dict[str, Service]) -> None:
    modules = runs(services)
    for vs in SERVICES:
        names = [name for name, module in modules.items() if module == (vs.go_binary or vs.module)]
        wanted = [vs.name, *(f"{vs.name}-{n}" for n in range(1, settings.instances[vs.setting]))]
        assert sorted(names) == sorted(wanted), vs.name
        ports = [int(services[name]["environment"]["VIDMESH_GRPC_PORT"]) for name in wanted]
        assert ports == settings.instance_ports(vs.setting)
    assert sorted(n for n, m in modules.items() if m == "services.video_query") == [
        "video-query", *(f"video-query-{n}" for n in range(1, settings.instances["video_query"]))]


def own_loaders(module: str) -> list[Callable[[Mapping[str, str]], object]]:
    """A service's own settings loaders besides mesh.config (e.g. services/email/config.py)."""
    loaders: list[Callable[[Mapping[str, str]], object]] = [load_upstreams] if module.startswith("bff.") else []
    if importlib.util.find_spec(f"{module}.config"):
        loaders.append(importlib.import_module(f"{module}.config").load)
    return loaders


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_environment_passes_the_service_loaders_and_names_compose_hosts(name: str,
                                                                         services: dict[str, Service]) -> None:
    service, module = services[name], EXPECTED[name]
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


@pytest.mark.parametrize("name", sorted(GO_EXPECTED))
def test_go_service_environment_is_what_mesh_config_reads_with_compose_hosts(name: str,
                                                                            services: dict[str, Service]) -> None:
    # gomesh/config reads the same variables with the same defaults as mesh/config.py.
    service = services[name]
    env = service["environment"]
    cfg = mesh_config.load(env, service_name=name, required=["VIDMESH_DATABASE_URL"] if name in ROLES else [])
    for host, _ in map(host_port, [cfg.consul_http_addr, cfg.kafka_bootstrap]):
        assert host in services and host not in LOOPBACK, (name, host)
    assert cfg.grpc_host == "0.0.0.0" and [p["target"] for p in service["ports"]] == [cfg.grpc_port]
    assert cfg.advertise_host == name
    assert service["healthcheck"]["test"] == ["CMD", "/grpc-health-probe", f"-addr=127.0.0.1:{cfg.grpc_port}"]


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
                                                               f"/{dbbootstrap.ROLES[role].database}")
    # The init step and the one-shot set the password the service connects with.
    expected = dbbootstrap.password(role, environ={})
    for initialiser in ("postgres", "db-init"):
        assert services[initialiser]["environment"][dbbootstrap.password_env(role)] == expected
    assert url.password == expected
    natively = {vs.name: vs.database_role for vs in SERVICES}
    assert natively.get(name, role) == role


def test_published_ports_bind_loopback_with_the_settings_numbers(settings: Settings,
                                                                services: dict[str, Service]) -> None:
    expected = {("envoy", 8080): settings.envoy_port, ("envoy", 9901): settings.envoy_admin_port,
                ("consul", 8500): settings.consul_http_port, ("postgres", 5432): settings.postgres_port,
                ("kafka", 9094): settings.kafka_port, ("mailpit", 1025): settings.smtp_port,
                ("mailpit", 8025): int(read_env_file(compose_env.ENV_FILE)["VIDMESH_MAIL_UI_PORT"]),
                ("xds", 18000): settings.xds_port}
    for vs in SERVICES:
        for n, port in enumerate(settings.instance_ports(vs.setting)):
            expected[(compose_name(f"{vs.name}-{n}"), port)] = port
    published = {(name, p["target"]): p for name, s in services.items() for p in s.get("ports", [])}
    assert expected.keys() <= published.keys()
    for key, port in published.items():
        assert port["host_ip"] == settings.host == "127.0.0.1", key
        assert int(port["published"]) == expected.get(key, port["target"]), key
