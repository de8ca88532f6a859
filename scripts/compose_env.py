"""Docker Compose's view of the settings and the topology: `.env`, the vidmesh half of
docker-compose.yml (scripts/compose_services.py), their check, and the real Compose's view.

    python3 -m scripts.compose_env write     .env and docker-compose.yml's vidmesh services (make compose-env)
    python3 -m scripts.compose_env check     both fresh, and `docker-compose config` accepts the file
    python3 -m scripts.compose_env config    the compose file as Compose resolves it (JSON)

Compose fills `${...}` in docker-compose.yml from `.env` (the shell's environment wins, so
`VIDMESH_ENVOY_PORT=18080 docker compose up` overrides like the native stack does). `.env` is
settings.env's keys with the file's values, plus what Compose cannot compute itself: each
service role's database password (mesh/dbbootstrap.py's rule) and the port of instance N of a
service (PORT+N). Both files are committed, so `docker compose up` works from a clean
checkout, and a test fails when either no longer matches settings.env and mesh/topology.py.

Standard library only, like mesh/settings.py: `make compose-up` runs it before any venv exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mesh import topology
from mesh.settings import ROOT, SETTINGS_FILE, load, read_env_file
from scripts import compose_services
from scripts.toolchain import Toolchain

ENV_FILE = ROOT / ".env"
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_BINARY = "docker-compose"  # built from its Go module by `make deps` (scripts/toolchain.py)
# Compose-only settings with no native counterpart, until settings.env names them.
COMPOSE_DEFAULTS = {"VIDMESH_MAIL_UI_PORT": "8025"}
HEADER = """\
# Written by `make compose-env` (python3 -m scripts.compose_env write) from settings.env.
# Do not edit: change settings.env and run `make compose-env`; a unit test fails when they differ.
# Docker Compose reads this file for the ${...} in docker-compose.yml.
"""


class ComposeError(RuntimeError):
    """Compose is missing or refused the file; the message says what to do."""


def derived(values: dict[str, str], settings_file: Path = SETTINGS_FILE) -> dict[str, str]:
    """What Compose cannot compute from settings.env: passwords and the ports of extra instances."""
    out = {key: values.get(key) or f"{role}-dev-password"
           for role in topology.databases() for key in [compose_services.password_variable(role)]}
    settings = load(environ={}, path=settings_file)
    for service in topology.SERVICES:
        for n, port in enumerate(settings.instance_ports(service.key)):
            if n:
                out[compose_services.port_variable(service, n)] = str(port)
    return out


def render(settings_file: Path = SETTINGS_FILE) -> str:
    """The text of `.env` for this settings file."""
    values = read_env_file(settings_file)
    lines = [HEADER, "# settings.env", *(f"{key}={value}" for key, value in values.items())]
    lines += ["", "# Derived: database passwords of the service roles, ports of instance N (PORT+N)"]
    lines += [f"{key}={value}" for key, value in derived(values, settings_file).items()]
    extra = {key: value for key, value in COMPOSE_DEFAULTS.items() if key not in values}
    if extra:
        lines += ["", "# Compose only, until settings.env names them"]
        lines += [f"{key}={value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def compose_text() -> str:
    """docker-compose.yml with its vidmesh services written anew from the topology."""
    return compose_services.rewrite(COMPOSE_FILE.read_text(), load(environ={}))


def write() -> list[str]:
    """Write `.env` and docker-compose.yml where they differ; the names of those written."""
    written = []
    for path, text in ((ENV_FILE, render()), (COMPOSE_FILE, compose_text())):
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path.name)
    return written


def compose_binary() -> Path:
    """The Compose binary `make deps` built (VIDMESH_COMPOSE names another, e.g. Docker's own
    plugin at /usr/libexec/docker/cli-plugins/docker-compose), or ComposeError saying how to get it."""
    if os.environ.get("VIDMESH_COMPOSE"):
        return Path(os.environ["VIDMESH_COMPOSE"])
    try:
        binary = Toolchain(load().cache_dir).go_binary(COMPOSE_BINARY)
    except StopIteration:
        raise ComposeError(f"scripts/toolchain.py lists no {COMPOSE_BINARY} in GO_BINARIES") from None
    if not binary.exists():
        raise ComposeError(f"{binary} not found: run `make deps`")
    return binary


def compose_environ(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without VIDMESH_/COMPOSE_ variables, so checks read `.env`
    only, plus `overrides`: what a user's shell would set (`VIDMESH_X=1 docker compose up`)."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("VIDMESH_", "COMPOSE_"))}
    return {**kept, **(overrides or {})}


def compose(*args: str, overrides: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `docker-compose -f docker-compose.yml ARGS` from the repository root (no engine needed)."""
    command = [str(compose_binary()), "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE), *args]
    return subprocess.run(command, cwd=ROOT, env=compose_environ(overrides), capture_output=True, text=True,
                          timeout=60, check=False)


def resolved(overrides: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose file after interpolation, anchors and defaults: what `docker compose up` would
    run, with `overrides` in the environment."""
    done = compose("config", "--format", "json", overrides=overrides)
    if done.returncode != 0:
        raise ComposeError(f"docker-compose config failed:\n{done.stderr.strip()}")
    model: dict[str, Any] = json.loads(done.stdout)
    return model


def check() -> list[str]:
    """Problems that would make Compose run something other than settings.env says."""
    problems = []
    if not ENV_FILE.exists() or ENV_FILE.read_text() != render():
        problems.append(".env differs from what settings.env gives: run `make compose-env`")
    if COMPOSE_FILE.read_text() != compose_text():
        problems.append(f"{COMPOSE_FILE.name} differs from what mesh/topology.py gives: run `make compose-env`")
    done = compose("config", "--quiet")
    if done.returncode != 0:
        problems.append(f"docker-compose config refused {COMPOSE_FILE.name}:\n{done.stderr.strip()}")
    return problems


def main(argv: list[str]) -> int:
    """CLI: write, check or config."""
    command = argv[0] if argv else "write"
    if command == "write":
        written = write()
        print(f"compose-env: {', '.join(written) if written else 'nothing'} written from settings.env and the topology")
        return 0
    if command == "config":
        print(json.dumps(resolved(), indent=2))
        return 0
    if command == "check":
        problems = check()
        for problem in problems:
            print(f"compose-check: {problem}", file=sys.stderr)
        if not problems:
            print(f"compose-check: .env matches settings.env; docker-compose accepts {COMPOSE_FILE.name}")
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except ComposeError as error:
        sys.exit(f"compose: {error}")
