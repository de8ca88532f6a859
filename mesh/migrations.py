"""Per-service SQL migrations with yoyo: mesh's own tables (outbox, inbox), then the service's.

    from mesh import migrations
    migrations.apply(config.database_url, "services/users/migrations")

Migrations run as the service role, so the tables (and yoyo's bookkeeping tables) land in
the schema of the role's search_path: `users`, `video_write`, `video_read`, ... Two instances
starting together are safe: yoyo takes a lock in the database before applying anything.
Mesh migration ids start with `mesh_`, so a service's `0001_init.sql` never collides with them.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import psycopg.conninfo
import structlog
from yoyo import get_backend, read_migrations

log = structlog.get_logger(__name__)

MESH_MIGRATIONS = Path(__file__).resolve().parent / "mesh_migrations"
LOCK_TIMEOUT_S = 60


def yoyo_uri(dsn: str) -> str:
    """Turn a libpq DSN (URL or `key=value` string) into yoyo's psycopg 3 URL."""
    if dsn.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + dsn.split("://", 1)[1]
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    user = quote(str(params.pop("user", "")), safe="")
    secret = quote(str(params.pop("password", "")), safe="")
    host, port = params.pop("host", "127.0.0.1"), params.pop("port", "5432")
    dbname = params.pop("dbname", "")
    query = "&".join(f"{key}={quote(str(value), safe='')}" for key, value in params.items())
    credentials = f"{user}:{secret}@" if user else ""
    return f"postgresql+psycopg://{credentials}{host}:{port}/{dbname}" + (f"?{query}" if query else "")


def apply(dsn: str, *migration_dirs: str | Path) -> list[str]:
    """Apply mesh's migrations and then those in `migration_dirs`; return the ids applied now.

    Blocking (yoyo drives a sync connection): call it at start-up before serving, or
    through `asyncio.to_thread` from async code.
    """
    sources = [str(MESH_MIGRATIONS), *(str(Path(d)) for d in migration_dirs)]
    missing = [s for s in sources if not Path(s).is_dir()]
    if missing:
        raise FileNotFoundError(f"migration folder(s) not found: {', '.join(missing)}")
    backend = get_backend(yoyo_uri(dsn))
    try:
        migrations = read_migrations(*sources)
        with backend.lock(LOCK_TIMEOUT_S):
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
        applied = [m.id for m in pending]
    finally:
        backend.connection.close()
    log.info("migrations applied", applied=applied, sources=len(sources))
    return applied
