"""Docker Compose's view of settings.env: write `.env`, check it, and validate the compose file.

    python3 -m scripts.compose_env write     .env from settings.env (make compose-env)
    python3 -m scripts.compose_env check     .env in sync, and `docker-compose config` accepts the file
    python3 -m scripts.compose_env config    the compose file as Compose resolves it (JSON)

Compose fills `${...}` in docker-compose.yml from `.env` (the shell's environment wins, so
`VIDMESH_ENVOY_PORT=18080 docker compose up` overrides like the native stack does). `.env` is
settings.env's keys with the file's values, plus what Compose cannot compute itself: each
service role's database password (mesh/dbbootstrap.py's rule) and the port of instance N of a
service (PORT+N). It is committed, so `docker compose up` works from a clean checkout, and a
unit test fails when it no longer matches settings.env.

Standard library only, like mesh/settings.py: `make compose-up` runs it before any venv exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mesh.settings import ROOT, SERVICES, SETTINGS_FILE, load, read_env_file
from scripts.toolchain import Toolchain

ENV_FILE = ROOT / ".env"
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_BINARY = "docker-compose"  # built from its Go module by `make deps` (scripts/toolchain.py)
# The service roles of mesh/dbbootstrap.py (importing it would need psycopg; a test compares).
DB_ROLES = ("users", "notification", "email", "video_command", "video_query", "recommendations")
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
    out = {f"VIDMESH_DB_PASSWORD_{role.upper()}": values.get(f"VIDMESH_DB_PASSWORD_{role.upper()}")
           or f"{role}-dev-password" for role in DB_ROLES}
    settings = load(environ={}, path=settings_file)
    for service in SERVICES:
        for n, port in enumerate(settings.instance_ports(service)):
            if n:
                out[f"VIDMESH_{service.upper()}_{n}_PORT"] = str(port)
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


def write(path: Path = ENV_FILE) -> bool:
    """Write `.env` if it differs; True when it changed."""
    text = render()
    if path.exists() and path.read_text() == text:
        return False
    path.write_text(text)
    return True


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


def compose_environ() -> dict[str, str]:
    """This process's environment without VIDMESH_/COMPOSE_ overrides: checks read `.env` only."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("VIDMESH_", "COMPOSE_"))}


def compose(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `docker-compose -f docker-compose.yml ARGS` from the repository root (no engine needed)."""
    command = [str(compose_binary()), "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE), *args]
    return subprocess.run(command, cwd=ROOT, env=compose_environ(), capture_output=True, text=True,
                          timeout=60, check=False)


def resolved() -> dict[str, Any]:
    """The compose file after interpolation, anchors and defaults: what `docker compose up` would run."""
    done = compose("config", "--format", "json")
    if done.returncode != 0:
        raise ComposeError(f"docker-compose config failed:\n{done.stderr.strip()}")
    model: dict[str, Any] = json.loads(done.stdout)
    return model


def check() -> list[str]:
    """Problems that would make Compose run something other than settings.env says."""
    problems = []
    if not ENV_FILE.exists() or ENV_FILE.read_text() != render():
        problems.append(".env differs from what settings.env gives: run `make compose-env`")
    done = compose("config", "--quiet")
    if done.returncode != 0:
        problems.append(f"docker-compose config refused {COMPOSE_FILE.name}:\n{done.stderr.strip()}")
    return problems


def main(argv: list[str]) -> int:
    """CLI: write, check or config."""
    command = argv[0] if argv else "write"
    if command == "write":
        print(f"compose-env: {ENV_FILE.name} {'written' if write() else 'already up to date'} from settings.env")
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
