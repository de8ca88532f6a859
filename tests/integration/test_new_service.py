"""Adding a service is one entry plus its package, and that is proved: in a fresh clone,
`make new-service` makes a throwaway service from the template, which builds, passes its unit
tests, runs against the stack's Postgres, Kafka and Consul, and passes the conformance kit.

The clone's kit is pointed at this stack (its data folder, so it finds the running stack
instead of starting one) and checks only the new service."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from mesh import dbbootstrap
from mesh.settings import Settings
from tests.stack.conftest import fresh_clone

pytestmark = pytest.mark.timeout(900)  # a clone's codegen, a service's start and the kit's checks


@pytest.fixture
def clone() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="vidmesh-new-service-"))
    try:
        yield fresh_clone(folder / "vidmesh")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(clone: Path, env: dict[str, str], *command: str, timeout: float = 300) -> str:
    done = subprocess.run([sys.executable, *command], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _dsn(name: str, settings: Settings) -> str:
    """The new service's DSN, by dbbootstrap's rule (this interpreter's topology has no entry for it)."""
    return f"postgresql://{name}:{name}-dev-password@{settings.host}:{settings.postgres_port}/{name}"


def _drop(settings: Settings, name: str) -> None:
    with psycopg.connect(dbbootstrap.superuser_dsn(settings), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def test_a_service_made_by_make_new_service_joins_the_mesh_and_passes_the_kit(
        clone: Path, settings: Settings) -> None:
    name = f"scratch{uuid.uuid4().hex[:6]}"
    # The stack's folders: its data, its logs, and its identities (the kit calls as its operator).
    env = {**os.environ, "PYTHONPATH": f"{clone}:{clone / 'gen' / 'python'}",
           "VIDMESH_DATA_DIR": str(settings.data_dir), "VIDMESH_LOG_DIR": str(settings.log_dir),
           "VIDMESH_CERTS_DIR": str(settings.certs_dir)}
    _run(clone, env, "-m", "scripts.new_service", name)
    _run(clone, env, "scripts/protos.py", "build")
    _run(clone, env, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"tests/unit/{name}")
    try:
        _run(clone, env, "-m", "mesh.dbbootstrap")  # the new role and database, beside the others
        instance = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"], cwd=clone, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            env={**env, "VIDMESH_DATABASE_URL": _dsn(name, settings),
                 "VIDMESH_GRPC_PORT": "0", "VIDMESH_CONSUL_HTTP_ADDR": f"{settings.host}:{settings.consul_http_port}",
                 "VIDMESH_KAFKA_BOOTSTRAP": f"{settings.host}:{settings.kafka_port}",
                 "VIDMESH_XDS_ADDR": f"{settings.host}:{settings.xds_port}"})
        try:
            kit = _run(clone, env, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/conformance/contract",
                       "--service", name, timeout=600)
            assert " passed" in kit and "failed" not in kit, kit[-2000:]
        finally:
            instance.terminate()
            instance.wait(30)
    finally:
        _drop(settings, name)
