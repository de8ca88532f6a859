"""Database per service: after bootstrap, each role reaches its own data and nothing else."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from mesh import dbbootstrap, migrations, topology
from mesh.settings import Settings

ROLES = topology.databases()
DATABASES = sorted({database.name for database in ROLES.values()})
# Roles of services that are not Python: their own runtime (gomesh/migrate for Go) applies
# mesh's migrations, not mesh.migrations.
NATIVE_ROLES = {entry.database.role for entry in topology.SERVICES if entry.database and entry.command[0] != "python"}
MESH_TABLES = ("outbox", "inbox", "request_log")


@pytest.fixture(scope="module", autouse=True)
def bootstrapped(settings: Settings) -> list[str]:
    """The real bootstrap, as `python -m mesh.dbbootstrap` runs it (idempotent)."""
    return dbbootstrap.run(settings)


def _connect(role: str, database: str | None = None) -> psycopg.Connection[tuple[object, ...]]:
    url = dbbootstrap.dsn(role)
    if database is not None:
        url = url.rsplit("/", 1)[0] + f"/{database}"
    return psycopg.connect(url, connect_timeout=5, autocommit=True)


@pytest.fixture
def table_name() -> Iterator[str]:
    yield f"it_iso_{uuid.uuid4().hex[:10]}"


def test_bootstrap_is_idempotent_and_reports_everything(settings: Settings) -> None:
    lines = dbbootstrap.run(settings)
    assert all(line.endswith("already present") for line in lines[:-1]), lines
    assert {f"role {role}: already present" for role in ROLES} <= set(lines)


@pytest.mark.parametrize(("role", "database"), [
    (role, database) for role, own in ROLES.items() for database in DATABASES if database != own.name
])
def test_role_is_refused_on_other_services_databases(role: str, database: str) -> None:
    with pytest.raises(psycopg.OperationalError, match=f'permission denied for database "{database}"'):
        _connect(role, database).close()


@pytest.mark.parametrize("role", list(ROLES))
def test_role_creates_and_reads_tables_in_its_own_schema(role: str, table_name: str) -> None:
    with _connect(role) as conn:
        conn.execute(f"CREATE TABLE {table_name} (id int PRIMARY KEY, note text)")
        try:
            conn.execute(f"INSERT INTO {table_name} VALUES (1, 'mine')")
            row = conn.execute(f"SELECT note, (SELECT relnamespace::regnamespace::text FROM pg_class "
                               f"WHERE oid = '{table_name}'::regclass) FROM {table_name}").fetchone()
        finally:
            conn.execute(f"DROP TABLE {table_name}")
    assert row == ("mine", ROLES[role].schema)


@pytest.mark.parametrize("role", list(ROLES))
def test_role_cannot_create_in_public_schema(role: str, table_name: str) -> None:
    with _connect(role) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege,
                                                match="permission denied for schema public"):
        conn.execute(f"CREATE TABLE public.{table_name} (id int)")


@pytest.mark.parametrize(("role", "owner"), [("video_command", "video_query"), ("video_query", "video_command")])
def test_video_roles_cannot_use_each_others_schema(role: str, owner: str, table_name: str) -> None:
    other_schema = ROLES[owner].schema
    with _connect(owner) as owner_conn:
        owner_conn.execute(f"CREATE TABLE {table_name} (id int)")
        try:
            with _connect(role) as conn:
                with pytest.raises(psycopg.errors.InsufficientPrivilege,
                                   match=f"permission denied for schema {other_schema}"):
                    conn.execute(f"SELECT * FROM {other_schema}.{table_name}")
                with pytest.raises(psycopg.errors.InsufficientPrivilege,
                                   match=f"permission denied for schema {other_schema}"):
                    conn.execute(f"CREATE TABLE {other_schema}.{table_name}_x (id int)")
        finally:
            owner_conn.execute(f"DROP TABLE {table_name}")


@pytest.mark.parametrize("role", [role for role in ROLES if role not in NATIVE_ROLES])
def test_mesh_migrations_as_a_service_role_land_in_its_schema(role: str) -> None:
    migrations.apply(dbbootstrap.dsn(role))  # what every service does at start; idempotent
    with _connect(role) as conn:
        rows = conn.execute("SELECT relname, relnamespace::regnamespace::text FROM pg_class "
                            "WHERE relname IN ('outbox', 'inbox') AND relkind = 'r' "
                            "AND pg_table_is_visible(oid)").fetchall()
    assert sorted(rows) == [("inbox", ROLES[role].schema), ("outbox", ROLES[role].schema)]


def _mesh_tables(role: str) -> set[tuple[str, ...]]:
    """mesh's tables as the role sees them in its schema: every column and every index."""
    with _connect(role) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, ''), "
            "is_identity FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ANY(%s)", (list(MESH_TABLES),)).fetchall()
        indexes = conn.execute(
            "SELECT tablename, indexname, replace(indexdef, schemaname || '.', '') FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = ANY(%s)", (list(MESH_TABLES),)).fetchall()
    return {tuple(map(str, row)) for row in (*columns, *indexes)}


@pytest.mark.parametrize("role", sorted(NATIVE_ROLES))
def test_a_go_services_mesh_tables_are_a_python_services_in_its_own_schema(role: str) -> None:
    # The running stack's instance applied gomesh's migrations at start, as its role: the same
    # SQL files as yoyo's (mesh/mesh_migrations), so the same columns and the same indexes
    # (retention prunes the inbox by processed_at: without its index, every prune scans it).
    python_role = next(role for role in sorted(ROLES) if role not in NATIVE_ROLES)
    migrations.apply(dbbootstrap.dsn(python_role))
    go_tables, python_tables = _mesh_tables(role), _mesh_tables(python_role)
    assert {row[0] for row in go_tables} == set(MESH_TABLES)
    assert go_tables == python_tables
    with _connect(role) as conn:
        rows = conn.execute("SELECT relnamespace::regnamespace::text FROM pg_class WHERE relname = ANY(%s) "
                            "AND relkind = 'r' AND pg_table_is_visible(oid)", ([*MESH_TABLES, "mesh_db_version"],))
        assert [row[0] for row in rows.fetchall()] == [ROLES[role].schema] * 4
