"""The outbox's plumbing without infrastructure: what add() writes, Kafka settings, DSNs, SQL drift."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.video.v1.events_pb2 import VideoDeleted

from mesh import dbbootstrap, events, kafka, outbox, tracing
from mesh.migrations import yoyo_uri
from mesh.settings import load
from tests.spans import named, parent_id, span_id, trace_id


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
    assert params[:4] == (env.id, "vidmesh.video.v1.VideoDeleted", "video.v1.events", env.aggregate_id)
    stored = EventEnvelope.FromString(params[4])
    assert stored.traceparent  # the write's own span (the next test)
    stored.traceparent = env.traceparent
    assert stored == env
    assert notify == f"NOTIFY {outbox.CHANNEL}"


async def test_the_stored_envelope_names_the_write_span_in_the_requests_trace(spans: InMemorySpanExporter) -> None:
    conn = RecordingConnection()
    with tracing.tracer().start_as_current_span("request", kind=SpanKind.SERVER) as request:
        await outbox.add(conn, _envelope(), "video.v1.events")  # type: ignore[arg-type]
    (write,) = named(spans, "outbox video.v1.events")
    assert write.kind is SpanKind.PRODUCER and parent_id(write) == request.get_span_context().span_id
    stored = EventEnvelope.FromString(conn.executed[0][1][4])
    assert stored.traceparent.split("-")[1:3] == [f"{trace_id(write):032x}", f"{span_id(write):016x}"]


async def test_a_cause_given_outside_any_request_is_continued(spans: InMemorySpanExporter) -> None:
    cause = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    video_id = str(uuid.uuid4())
    env = events.envelope(VideoDeleted(video_id=video_id, owner_id=str(uuid.uuid4()), version=4),
                          "/vidmesh/video-command", f"videos/{video_id}", video_id, 4, trace=cause)
    await outbox.add(RecordingConnection(), env, "video.v1.events")  # type: ignore[arg-type]
    (write,) = named(spans, "outbox video.v1.events")
    assert f"{trace_id(write):032x}" == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert f"{parent_id(write):016x}" == "00f067aa0ba902b7"


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


def test_consumer_commits_only_what_it_stored_and_is_replaced_within_ten_seconds() -> None:
    config = kafka.consumer_config("127.0.0.1:9092", "notification")
    assert config["group.id"] == "notification"
    assert config["enable.auto.offset.store"] is False  # stored by hand, after the transaction
    assert config["auto.commit.interval.ms"] <= 1000
    assert config["session.timeout.ms"] <= 10_000
    assert config["heartbeat.interval.ms"] * 3 <= config["session.timeout.ms"]


def test_only_a_prompt_consumer_is_answered_by_the_first_record() -> None:
    prompt = kafka.consumer_config("127.0.0.1:9092", "video-query", prompt=True)
    gathering = kafka.consumer_config("127.0.0.1:9092", "notification")
    assert (prompt["fetch.min.bytes"], prompt["fetch.wait.max.ms"]) == (1, kafka.PROMPT_FETCH_WAIT_MS)
    assert (gathering["fetch.min.bytes"], gathering["fetch.wait.max.ms"]) == (
        kafka.GATHER_FETCH_BYTES, kafka.GATHER_FETCH_WAIT_MS)
    assert kafka.GATHER_FETCH_WAIT_MS > kafka.PROMPT_FETCH_WAIT_MS


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


