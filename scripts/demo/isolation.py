"""Step 6, Database per Service: a service's role cannot read another service's data."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import psycopg

from mesh.dbbootstrap import dsn, password
from scripts.demo import show
from scripts.demo.calls import StepFailed, expect
from scripts.demo.world import Demo

WHY = """Each service owns a database (or, for the two sides of CQRS, a schema) and logs in as
its own role. Postgres itself refuses anything else: video-query may read its read model,
but not video-command's tables next door, and it cannot even connect to the users database.
Services share data only through their APIs and events."""
REFUSED_DATABASE = re.compile(r'permission denied for database "?users"?')


def run(demo: Demo) -> str:
    """As the video_query role: its own table works; video_write and the users database are refused."""
    show.heading(6, "Database per Service", "Postgres refuses what is not yours")
    show.explain(WHY)
    own = dsn("video_query", demo.settings)
    show.say("video-query reads its own read model")
    count = query(own, "SELECT count(*) FROM video_read.videos")
    expect(count is not None and not isinstance(count, str), f"video_read.videos: {count} rows")
    show.say("video-query tries video-command's write tables in the same database")
    refused = query(own, "SELECT count(*) FROM video_write.videos")
    expect(isinstance(refused, str) and "permission denied for schema video_write" in refused,
           "refused: permission denied for schema video_write")
    show.say("video-query tries the users database")
    other = own.rsplit("/", 1)[0] + "/users"
    refused = query(other, "SELECT email FROM users.users LIMIT 1")
    expect(isinstance(refused, str) and bool(REFUSED_DATABASE.search(refused)),
           "refused: permission denied for database users")
    return "video_read readable; video_write and the users database refused to video_query"


def query(url: str, sql: str) -> int | str | None:
    """Run one statement as the URL's role: its first value, or the error Postgres gave."""
    parts = urlsplit(url)
    show.command(f"PGPASSWORD={password(parts.username or '')} psql -h {parts.hostname} -p {parts.port} "
                 f"-U {parts.username} -d {parts.path.lstrip('/')} -c '{sql}'")
    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            row = connection.execute(sql).fetchone()
    except psycopg.Error as error:
        message = str(error).strip().splitlines()
        refusal = next((line for line in message if "permission denied" in line), message[-1] if message else "")
        show.result(f"ERROR: {refusal.split('FATAL:')[-1].strip()}")
        return refusal
    if row is None:
        raise StepFailed(f"{sql} returned no row")
    show.result(str(row[0]))
    return int(row[0])
