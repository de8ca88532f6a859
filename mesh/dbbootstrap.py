"""Database per service: every service's database, schema and login role, from the topology.

`python -m mesh.dbbootstrap` runs as the Postgres superuser, natively (the stack's db-init
step) and under Compose (the db-init container, from the vidmesh image), so both stacks run
the same code. It is safe to run at every start: it creates what is missing and re-asserts
passwords, attributes and grants, so a changed password or a new service converges.

For each role of mesh/topology.py: a LOGIN role that is nothing more (no superuser, no
CREATEDB, no CREATEROLE), its search_path set to its schema; its database, which only its own
role(s) may connect to; its schema, owned by the role; the public schema closed. Two roles
may share a database (CQRS: video_command and video_query in `video`), and then neither may
look into the other's schema. Passwords: VIDMESH_DB_PASSWORD_<ROLE> from the environment or
settings.env, else `<role>-dev-password` (a local development default).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import quote

import psycopg
from psycopg import sql

from mesh import settings as settings_module
from mesh import topology

LOCK = "SELECT pg_advisory_lock(hashtext('vidmesh.dbbootstrap'))"  # CREATE ROLE/DATABASE race otherwise
ROLE_ATTRIBUTES = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")


def password_env(role: str) -> str:
    """The environment variable that overrides a role's password, e.g. VIDMESH_DB_PASSWORD_USERS."""
    return f"VIDMESH_DB_PASSWORD_{role.upper()}"


def password(role: str, environ: Mapping[str, str] | None = None) -> str:
    """A role's password: environment, then settings.env, then `<role>-dev-password`."""
    _database(role)
    return _settings_values(environ).get(password_env(role)) or f"{role}-dev-password"


def dsn(role: str, settings: settings_module.Settings | None = None,
        environ: Mapping[str, str] | None = None) -> str:
    """A `postgresql://` URL for a service role on the configured host (loopback by default)."""
    database = _database(role)
    s = settings or settings_module.load(dict(environ) if environ is not None else None)
    secret = quote(password(role, environ), safe="")
    return f"postgresql://{role}:{secret}@{s.host}:{s.postgres_port}/{database.name}"


def service_dsn(service: str, settings: settings_module.Settings | None = None,
                environ: Mapping[str, str] | None = None) -> str:
    """The DSN of a service by name (`video-query` or `video_query`): its role's."""
    entry = topology.service(service)
    if entry.database is None:
        raise KeyError(f"service {entry.name!r} owns no database")
    return dsn(entry.database.role, settings, environ)


def superuser_dsn(settings: settings_module.Settings, database: str = "postgres") -> str:
    """The superuser's DSN, for bootstrapping and for tests that create scratch databases."""
    secret = quote(settings.postgres_password, safe="")
    return (f"postgresql://{quote(settings.postgres_user, safe='')}:{secret}@{settings.host}:"
            f"{settings.postgres_port}/{database}?connect_timeout=5")


def run(settings: settings_module.Settings | None = None, environ: Mapping[str, str] | None = None) -> list[str]:
    """Create or re-assert every role, database and schema; one line per thing, saying what."""
    s = settings or settings_module.load()
    roles = topology.databases()
    report: list[str] = []
    with psycopg.connect(superuser_dsn(s), autocommit=True) as conn:
        conn.execute(LOCK)
        for role in roles:
            report.append(_role(conn, role, password(role, environ)))
        for name in sorted({database.name for database in roles.values()}):
            report.append(_database_of(conn, name, [r for r, d in roles.items() if d.name == name]))
    for name in sorted({database.name for database in roles.values()}):
        with psycopg.connect(superuser_dsn(s, name), autocommit=True) as conn:
            conn.execute(LOCK)
            report.extend(_schemas(conn, {r: d for r, d in roles.items() if d.name == name}))
    report.append(f"passwords (scram) and search_path set for {len(roles)} roles; "
                  "CONNECT only for each database's own roles; public schemas closed")
    return report


def _role(conn: psycopg.Connection[tuple[object, ...]], role: str, secret: str) -> str:
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    if not exists:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    conn.execute("SET password_encryption = 'scram-sha-256'")
    conn.execute(sql.SQL("ALTER ROLE {} {} PASSWORD {}").format(
        sql.Identifier(role), ROLE_ATTRIBUTES, sql.Literal(secret)))
    schema = topology.databases()[role].schema
    conn.execute(sql.SQL("ALTER ROLE {} SET search_path = {}").format(sql.Identifier(role), sql.Identifier(schema)))
    return f"role {role}: {'already present' if exists else 'created'}"


def _database_of(conn: psycopg.Connection[tuple[object, ...]], name: str, roles: list[str]) -> str:
    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if not exists:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    # A new database grants CONNECT and TEMPORARY to PUBLIC, i.e. to every role.
    conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
    conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
        sql.Identifier(name), sql.SQL(", ").join(map(sql.Identifier, roles))))
    return f"database {name}: {'already present' if exists else 'created'}"


def _schemas(conn: psycopg.Connection[tuple[object, ...]], roles: dict[str, topology.Database]) -> list[str]:
    conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
    report = []
    for role, database in roles.items():
        exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (database.schema,)).fetchone()
        schema, owner = sql.Identifier(database.schema), sql.Identifier(role)
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(schema, owner))
        conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(schema, owner))
        others = [sql.Identifier(other) for other in roles if other != role]
        conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(
            schema, sql.SQL(", ").join([sql.SQL("PUBLIC"), *others])))
        report.append(f"schema {database.name}.{database.schema}: {'already present' if exists else 'created'}")
    return report


def _database(role: str) -> topology.Database:
    roles = topology.databases()
    if role not in roles:
        raise KeyError(f"unknown service role {role!r}; known: {', '.join(roles)}")
    return roles[role]


def _settings_values(environ: Mapping[str, str] | None) -> dict[str, str]:
    # settings.env first, the environment wins: the same precedence as mesh.settings.load().
    env = os.environ if environ is None else environ
    file = settings_module.SETTINGS_FILE
    values = settings_module.read_env_file(file) if file.exists() else {}
    values.update({k: v for k, v in env.items() if k.startswith("VIDMESH_") and v})
    return values


def main() -> None:
    """`python -m mesh.dbbootstrap`: bootstrap the service databases and say what was done."""
    for line in run():
        print(line)  # a CLI's output, not a log


if __name__ == "__main__":
    main()
