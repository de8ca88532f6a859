"""The files Compose reads: `.env` in sync with settings.env, every mounted or copied file
present, the Dockerfile's promises, and the gateway config Envoy is started with."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from mesh import dbbootstrap
from mesh.settings import ROOT, SETTINGS_FILE, load, read_env_file
from scripts import compose_env, gateway
from scripts.toolchain import UV_VERSION, Toolchain
from tests.compose_support import Service, compose_services

DOCKERFILE = ROOT / "Dockerfile"


@pytest.fixture(scope="module")
def services() -> dict[str, Service]:
    return compose_services()


def stages() -> list[list[str]]:
    """The Dockerfile's stages, each a list of instructions (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    found: list[list[str]] = []
    for line in lines:
        if line.startswith("FROM "):
            found.append([])
        found[-1].append(line)
    return found


def test_env_file_is_what_settings_env_gives() -> None:
    assert compose_env.ENV_FILE.read_text() == compose_env.render(), "run `make compose-env`"


def test_env_derivations_follow_the_mesh_rules() -> None:
    env = read_env_file(compose_env.ENV_FILE)
    assert set(compose_env.DB_ROLES) == set(dbbootstrap.ROLES)
    for role in dbbootstrap.ROLES:
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


def test_every_mounted_file_and_the_build_context_exist(services: dict[str, Service]) -> None:
    for name, service in services.items():
        for volume in service.get("volumes", []):
            if volume["type"] == "bind":
                assert Path(volume["source"]).is_file(), f"{name} mounts missing {volume['source']}"
        if "build" in service:
            assert (Path(service["build"]["context"]) / service["build"]["dockerfile"]).is_file()


def test_every_file_the_dockerfile_copies_exists() -> None:
    for stage in stages():
        for line in stage:
            if line.startswith("COPY ") and "--from=" not in line:
                for source in line.split()[1:-1]:
                    assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"


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


def test_envoy_starts_with_the_gateway_rendering_and_its_descriptor(services: dict[str, Service],
                                                                     tmp_path: Path) -> None:
    envoy = services["envoy"]
    config_path = envoy["command"][envoy["command"].index("-c") + 1]
    binds = {v["target"]: Path(v["source"]) for v in envoy["volumes"] if v["type"] == "bind"}
    assert binds[config_path] == gateway.COMPOSE_CONFIG
    # The descriptor set is copied out of the vidmesh image into the volume Envoy reads it from.
    folder, file = gateway.COMPOSE_DESCRIPTOR.rsplit("/", 1)
    volume = next(v["source"] for v in envoy["volumes"] if v["type"] == "volume" and v["target"] == folder)
    copier = services["descriptors"]
    target = next(v["target"] for v in copier["volumes"] if v["source"] == volume)
    assert copier["command"] == ["cp", "-R", "/app/gen/vidmesh.binpb", "/app/gen/openapi/openapi.json",
                                 "/app/web/dist", f"{target}/"]
    assert f"{folder}/{Path(gateway.COMPOSE_OPENAPI_DOCUMENT).name}" == gateway.COMPOSE_OPENAPI_DOCUMENT
    assert f"{folder}/dist" == gateway.COMPOSE_WEB_ROOT and file == "vidmesh.binpb"
    config = tmp_path / "envoy.yaml"
    config.write_text(gateway.COMPOSE_CONFIG.read_text().replace(gateway.COMPOSE_DESCRIPTOR, str(gateway.DESCRIPTOR))
                      .replace(gateway.COMPOSE_WEB_ROOT, str(gateway.WEB_ROOT))
                      .replace(gateway.COMPOSE_OPENAPI_DOCUMENT, str(gateway.OPENAPI_DOCUMENT)))
    envoy_binary = Toolchain(load().cache_dir).envoy
    done = subprocess.run([str(envoy_binary), "--mode", "validate", "-c", str(config), "--log-level", "critical"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
