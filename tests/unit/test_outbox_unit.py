"""The outbox's plumbing without infrastructure: what add() writes, Kafka settings, DSNs, SQL drift."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from vidmesh.video.v1.events_pb2 import VideoDeleted

from mesh import dbbootstrap, events, kafka, outbox
from mesh.migrations import yoyo_uri
from mesh.settings import load


class RecordingConnection:
    """Stands in for psycopg's AsyncConnection: remembers what was executed."""

    def __init__(self) -> None:
        self.executed: list[tuple[str, Any]] = []

    async def execute(self, query: str, params: Any = None) -> None:
        self.executed.append((query, params))


def _envelope() -> Any:
    video_id = str(uuid.uuid4())
    event = VideoDeleted(video_id=video_id, owner_id=str(uuid.uuid4()), version=4)
    return events.envelope(event, "/vidmesh/video-command", f"videos/{video_id}", video_id, 4)


async def test_add_inserts_the_envelope_keyed_by_aggregate_then_notifies() -> None:
    conn, env = RecordingConnection(), _envelope()
    await outbox.add(conn, env, "video.v1.events")  # type: ignore[arg-type]
    (insert, params), (notify, _) = conn.executed
    assert insert.startswith("INSERT INTO outbox")
    assert params == (env.id, "vidmesh.video.v1.VideoDeleted", "video.v1.events", env.aggregate_id,
                      env.SerializeToString())
    assert notify == f"NOTIFY {outbox.CHANNEL}"


async def test_add_uses_an_explicit_key() -> None:
    conn = RecordingConnection()
    await outbox.add(conn, _envelope(), "video.v1.events", key="channel-7")  # type: ignore[arg-type]
    assert conn.executed[0][1][3] == "channel-7"


def test_producer_is_idempotent_and_never_gives_a_message_up() -> None:
    config = kafka.producer_config("127.0.0.1:9092")
    assert config["enable.idempotence"] is True
    assert config["acks"] == "all"
    assert config["message.timeout.ms"] == 0
    assert kafka.producer_config("h:1", **{"linger.ms": 50})["linger.ms"] == 50


def test_consumer_commits_by_hand_and_is_replaced_within_ten_seconds() -> None:
    config = kafka.consumer_config("127.0.0.1:9092", "notification")
    assert config["group.id"] == "notification"
    assert config["enable.auto.commit"] is False
    assert config["session.timeout.ms"] <= 10_000
    assert config["heartbeat.interval.ms"] * 3 <= config["session.timeout.ms"]


def test_dead_letter_topic_is_named_after_the_group() -> None:
    assert kafka.dlq_topic("notification") == "notification.dlq"


def test_yoyo_uri_accepts_urls_and_keyword_dsns() -> None:
    assert yoyo_uri("postgresql://u:p@h:5432/d") == "postgresql+psycopg://u:p@h:5432/d"
    assert yoyo_uri("host=h port=6543 user=u password=p@ss dbname=d") == "postgresql+psycopg://u:p%40ss@h:6543/d"


def test_password_comes_from_the_environment_else_the_dev_default() -> None:
    assert dbbootstrap.password("users", environ={}) == "users-dev-password"
    assert dbbootstrap.password("video_query", environ={"VIDMESH_DB_PASSWORD_VIDEO_QUERY": "s3cret"}) == "s3cret"
    with pytest.raises(KeyError, match="unknown service role"):
        dbbootstrap.password("nobody", environ={})


def test_dsn_points_at_the_role_database_with_an_escaped_password() -> None:
    env = {"VIDMESH_DB_PASSWORD_VIDEO_COMMAND": "a/b@c"}
    settings = load(env)
    assert dbbootstrap.service_dsn("video-command", settings, env) == (
        f"postgresql://video_command:a%2Fb%40c@{settings.host}:{settings.postgres_port}/video")
    assert dbbootstrap.dsn("email", settings, {}).endswith("/email")


