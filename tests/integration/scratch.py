"""A scratch database laid out like a service's own, for tests that run an instance of their
own: the service's role may connect, its schema belongs to that role, and nothing of the
stack's data is there (so the instance's outbox relay never publishes the stack's rows)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from mesh import dbbootstrap, topology
from mesh.settings import Settings


@contextmanager
def scratch_database(settings: Settings, role: str) -> Iterator[str]:
    """A fresh database with `role`'s schema; the role's DSN to it (dropped afterwards)."""
    schema = topology.databases()[role].schema
    name = f"it_{role}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dbbootstrap.superuser_dsn(settings), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
        conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
            sql.Identifier(name), sql.Identifier(role)))
    try:
        with psycopg.connect(dbbootstrap.superuser_dsn(settings, name), autocommit=True) as conn:
            conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            conn.execute(sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(
                sql.Identifier(schema), sql.Identifier(role)))
        yield dbbootstrap.dsn(role, settings).rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(dbbootstrap.superuser_dsn(settings), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
