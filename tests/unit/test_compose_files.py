"""The files Compose reads, read as files: `.env` in sync with settings.env, every file the
Dockerfile copies present, and the Dockerfile's promises. (What needs the real Compose or
Envoy is in tests/integration/compose/.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mesh import dbbootstrap, topology
from mesh.settings import ROOT, SETTINGS_FILE, load, read_env_file
from scripts import compose_env, compose_services, deps
from scripts.toolchain import UV_VERSION
from tests.dockerfile import stages


def test_env_file_is_what_settings_env_gives() -> None:
    assert compose_env.ENV_FILE.read_text() == compose_env.render(), "run `make compose-env`"


def test_the_compose_services_are_what_the_topology_gives() -> None:
    assert compose_env.COMPOSE_FILE.read_text() == compose_env.compose_text(), "run `make compose-env`"


def test_env_derivations_follow_the_mesh_rules() -> None:
    env = read_env_file(compose_env.ENV_FILE)
    for role in topology.databases():
        assert env[dbbootstrap.password_env(role)] == dbbootstrap.password(role, environ={})
    settings = load(environ={})
    for service, count in settings.instances.items():
        for n in range(1, count):
            assert int(env[f"VIDMESH_{service.upper()}_{n}_PORT"]) == settings.instance_ports(service)[n]


def test_env_render_fails_loudly_on_a_broken_settings_file(tmp_path: Path) -> None:
    broken = tmp_path / "settings.env"
    broken.write_text(SETTINGS_FILE.read_text().replace("VIDMESH_USERS_PORT=", "VIDMESH_USERS_PORT=x"))
    with pytest.raises(ValueError, match="VIDMESH_USERS_PORT"):
        compose_env.render(broken)


def test_every_variable_the_compose_file_uses_is_in_env() -> None:
    used = set(re.findall(r"\$\{(\w+)", compose_env.COMPOSE_FILE.read_text()))
    missing = used - read_env_file(compose_env.ENV_FILE).keys()
    assert not missing, f"Compose would leave these blank: {sorted(missing)}"


def test_every_file_the_dockerfile_copies_exists() -> None:
    for stage in stages():
        for line in stage:
            if line.startswith("COPY ") and "--from=" not in line:
                for source in line.split()[1:-1]:
                    assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"


def test_the_image_installs_last_what_the_native_environment_does() -> None:
    # Both copies of OpenTelemetry's protos land in the same files (scripts/deps.py says why).
    text = "\n".join(line for stage in stages() for line in stage)
    syncs = [part for part in text.split("&&") if "uv sync" in part]
    assert len(syncs) == 2, syncs
    for name in deps.INSTALLED_LAST:
        assert f"--no-install-package {name}" in syncs[0] and name not in syncs[1], name


def test_dockerfile_builds_one_slim_non_root_image_from_the_lock() -> None:
    all_stages = stages()
    base = all_stages[0][0]
    assert re.fullmatch(r"FROM python:3\.11\.\d+-slim-bookworm AS base", base), base
    text = "\n".join(line for stage in all_stages for line in stage)
    assert f"uv=={UV_VERSION}" in text and "uv sync --frozen --no-dev" in text
    assert "PYTHONUNBUFFERED=1" in text
    codegen = [i for i, stage in enumerate(all_stages) if any("scripts/protos.py build" in line for line in stage)]
    final = all_stages[-1]
    assert codegen and codegen[-1] < len(all_stages) - 1, "protobuf code is built in a builder stage"
    assert not any(tool in line for line in final for tool in ("grpcio-tools", "mypy-protobuf", "uv ")), final
    user = [line.split()[1] for line in final if line.startswith("USER ")]
    assert user and user[-1] not in ("root", "0"), "the runtime runs as a service user"
    for line in final:
        if line.startswith(("CMD ", "ENTRYPOINT ")):
            assert line.split(maxsplit=1)[1].startswith("["), f"exec form: {line}"


def test_dockerignore_keeps_local_state_out_of_the_build() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().splitlines())
    assert {".git", ".venv", ".run", ".cache", "gen", ".env"} <= ignored


def test_compose_runs_one_service_per_instance_of_every_topology_entry() -> None:
    text = compose_services.render(load(environ={"VIDMESH_VIDEO_QUERY_INSTANCES": "3",
                                                 "VIDMESH_VIDEO_QUERY_CANARY_INSTANCES": "0"}))
    for entry in topology.SERVICES:
        assert f"\n  {entry.name}:\n" in text, entry.name
    assert "\n  video-query-2:\n" in text and "${VIDMESH_VIDEO_QUERY_2_PORT}" in text
    assert "\n  video-query-3:\n" not in text


def test_compose_starts_a_canary_after_the_stable_instances_with_its_version() -> None:
    text = compose_services.render(load(environ={"VIDMESH_VIDEO_QUERY_INSTANCES": "2",
                                                 "VIDMESH_VIDEO_QUERY_CANARY_VERSION": "v3",
                                                 "VIDMESH_VIDEO_QUERY_CANARY_INSTANCES": "1"}))

    def block(name: str) -> str:
        """The lines of one Compose service, up to the next top-level key."""
        return re.split(r"\n  \S", text.split(f"\n  {name}:\n", 1)[1], maxsplit=1)[0]

    canary, stable = block("video-query-2"), block("video-query-1")
    assert 'VIDMESH_SERVICE_VERSION: "3"' in canary
    assert "traffic-init: { condition: service_completed_successfully }" in canary
    assert "VIDMESH_SERVICE_VERSION" not in stable
    assert "\n  traffic-init:\n" in text and "\n  video-query-3:\n" not in text
