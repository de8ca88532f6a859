"""The event envelope: CloudEvents attributes, Any payload, type URL back to the message class."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import pytest
from google.protobuf import any_pb2
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.users.v1.events_pb2 import UserRegistered
from vidmesh.video.v1.events_pb2 import VideoPublished

from mesh import events

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _published(video_id: str, version: int = 3) -> VideoPublished:
    return VideoPublished(video_id=video_id, owner_id=str(uuid.uuid4()), version=version, title="Cats")


def test_envelope_sets_the_cloudevents_attributes() -> None:
    video_id = str(uuid.uuid4())
    before = datetime.now(UTC)
    env = events.envelope(_published(video_id), source="/vidmesh/video-command", subject=f"videos/{video_id}",
                          aggregate_id=video_id, version=3, trace=TRACEPARENT)
    assert uuid.UUID(env.id).version == 4
    assert env.source == "/vidmesh/video-command"
    assert env.type == "vidmesh.video.v1.VideoPublished"
    assert env.subject == f"videos/{video_id}"
    assert env.spec_version == "1.0"
    assert env.data_content_type == "application/protobuf"
    assert env.traceparent == TRACEPARENT
    assert env.aggregate_id == video_id
    assert env.aggregate_version == 3
    assert before <= env.time.ToDatetime(tzinfo=UTC) <= datetime.now(UTC)
    assert env.data.type_url == "type.googleapis.com/vidmesh.video.v1.VideoPublished"


def test_each_envelope_gets_its_own_id() -> None:
    video_id = str(uuid.uuid4())
    ids = {events.envelope(_published(video_id), "/vidmesh/video-command", "v", video_id).id for _ in range(50)}
    assert len(ids) == 50


def test_round_trip_returns_equal_envelope_and_typed_payload() -> None:
    video_id = str(uuid.uuid4())
    sent = _published(video_id, version=7)
    env = events.envelope(sent, "/vidmesh/video-command", f"videos/{video_id}", video_id, 7)
    received_env, payload = events.unpack(env.SerializeToString())
    assert received_env == env
    assert isinstance(payload, VideoPublished)
    assert payload == sent


def test_type_url_and_full_name_resolve_to_the_generated_class() -> None:
    assert events.message_class("type.googleapis.com/vidmesh.users.v1.UserRegistered") is UserRegistered
    assert events.message_class("vidmesh.video.v1.VideoPublished") is VideoPublished


def test_unknown_type_url_is_an_unknown_event_type() -> None:
    with pytest.raises(events.UnknownEventType, match=r"vidmesh\.nope\.v1\.Gone"):
        events.message_class("type.googleapis.com/vidmesh.nope.v1.Gone")


def test_garbage_bytes_are_an_event_error() -> None:
    with pytest.raises(events.EventError):
        events.unpack(b"\xff\xff\xff not a protobuf")


def test_envelope_breaking_its_contract_is_rejected_on_read() -> None:
    video_id = str(uuid.uuid4())
    env = events.envelope(_published(video_id), "/vidmesh/video-command", "v", video_id)
    env.aggregate_id = "not-a-uuid"
    with pytest.raises(events.EventError, match="aggregate_id"):
        events.unpack(env.SerializeToString())


def test_type_attribute_must_match_the_payload() -> None:
    video_id = str(uuid.uuid4())
    env = events.envelope(_published(video_id), "/vidmesh/video-command", "v", video_id)
    env.type = "vidmesh.users.v1.UserRegistered"
    with pytest.raises(events.EventError, match="does not match"):
        events.parse(env.SerializeToString())


def test_payload_of_a_type_nobody_imported_is_unknown() -> None:
    data = any_pb2.Any(type_url="type.googleapis.com/vidmesh.ghost.v1.Boo", value=b"")
    env = EventEnvelope(id=str(uuid.uuid4()), source="/x", type="vidmesh.ghost.v1.Boo", spec_version="1.0",
                        aggregate_id=str(uuid.uuid4()), data_content_type="application/protobuf", data=data)
    env.time.GetCurrentTime()
    with pytest.raises(events.UnknownEventType):
        events.unpack(env.SerializeToString())


@pytest.mark.parametrize("data", [b"\x0a\x05ab", b"\x0f", b"\x22\x03\xed\xa0\x80"],
                         ids=["truncated field", "no such wire type", "title not UTF-8"])
def test_a_payload_that_is_not_its_type_is_an_event_error(data: bytes) -> None:
    # Any.Unpack parses the bytes and raises DecodeError; a consumer that let it through
    # crashed on the record, restarted, read it again and never got past it.
    env = events.envelope(_published(str(uuid.uuid4())), "/vidmesh/video-command", "v", str(uuid.uuid4()))
    env.data.value = data
    with pytest.raises(events.EventError, match=r"unreadable payload .*vidmesh\.video\.v1\.VideoPublished"):
        events.unpack(env.SerializeToString())


def test_a_nul_in_a_payload_string_is_an_event_error_naming_the_field() -> None:
    # Postgres cannot store a NUL: a projector that took it would fail on the record forever
    # instead of sending it to its dead-letter topic.
    env = events.envelope(_published(str(uuid.uuid4())), "/vidmesh/video-command", "v", str(uuid.uuid4()))
    env.data.Pack(VideoPublished(video_id=str(uuid.uuid4()), owner_id=str(uuid.uuid4()), version=1, title="a\0b"))
    with pytest.raises(events.EventError, match=r"invalid payload vidmesh\.video\.v1\.VideoPublished: title: .*NUL"):
        events.unpack(env.SerializeToString())


def test_a_nul_in_an_envelope_attribute_is_an_event_error() -> None:
    env = events.envelope(_published(str(uuid.uuid4())), "/vidmesh/video-command", "v", str(uuid.uuid4()))
    env.subject = "videos/\0"
    with pytest.raises(events.EventError, match=r"subject: .*NUL"):
        events.parse(env.SerializeToString())


def test_invalid_payload_is_refused_when_building_the_envelope() -> None:
    with pytest.raises(events.EventError, match="video_id"):
        events.envelope(_published("not-a-uuid"), "/vidmesh/video-command", "v", str(uuid.uuid4()))


def test_librdkafka_repeating_itself_while_kafka_is_away_is_logged_once_per_interval(
        caplog: pytest.LogCaptureFixture) -> None:
    from mesh.kafka import _CLIENT_LOG

    with caplog.at_level(logging.ERROR, logger="librdkafka"):
        for _ in range(5):
            _CLIENT_LOG.error("FAIL|rdkafka#producer-1| 127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed")
        _CLIENT_LOG.error("FAIL|something else")
    assert [r.getMessage() for r in caplog.records] == [
        "FAIL|rdkafka#producer-1| 127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed", "FAIL|something else"]
