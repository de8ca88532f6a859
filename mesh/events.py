"""Build and read `vidmesh.events.v1.EventEnvelope`: CloudEvents attributes around an Any payload.

    env = events.envelope(VideoPublished(...), source="/vidmesh/video-command",
                          subject=f"videos/{video_id}", aggregate_id=video_id, version=3,
                          trace=traceparent)
    env, payload = events.unpack(record.value())     # payload is a VideoPublished

The payload's class is found from the Any type URL in the default descriptor pool, so the
reading process must have imported the payload's `*_pb2` module (a consumer does, to name
its handlers). Envelope and payload are checked with their protovalidate rules both ways, and
with the rule every request is checked by (MESH.md §6): no string holds a NUL, which Postgres
cannot store.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import protovalidate
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message
from vidmesh.events.v1.envelope_pb2 import EventEnvelope

from mesh.validation import nul_violations

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/protobuf"
TYPE_URL_PREFIX = "type.googleapis.com/"


class EventError(ValueError):
    """An envelope or payload that cannot be read or breaks its contract (a poison message)."""


class UnknownEventType(EventError):
    """The payload's type is not in this process's descriptor pool (its module is not imported)."""


def type_name(message: Message | type[Message]) -> str:
    """The full protobuf name of a message or message class, e.g. `vidmesh.video.v1.VideoPublished`."""
    return message.DESCRIPTOR.full_name


def envelope(event_msg: Message, source: str, subject: str, aggregate_id: str, version: int = 0,
             trace: str | None = None, *, tracestate: str = "", event_id: str | None = None,
             time: datetime | None = None) -> EventEnvelope:
    """Wrap a domain event in a validated envelope with a fresh id (a UUID) and the current time.

    `trace` is the W3C `traceparent` of the request that caused the event, if any; `version`
    the aggregate's version after the change (0 for unversioned aggregates).
    """
    env = EventEnvelope(
        id=event_id or str(uuid.uuid4()), source=source, type=type_name(event_msg), subject=subject,
        spec_version=SPEC_VERSION, traceparent=trace or "", tracestate=tracestate,
        aggregate_id=aggregate_id, aggregate_version=version, data_content_type=CONTENT_TYPE,
    )
    env.time.FromDatetime(time or datetime.now(UTC))
    env.data.Pack(event_msg)
    _validate(event_msg, "payload")
    _validate(env, "envelope")
    return env


def parse(envelope_bytes: bytes | None) -> EventEnvelope:
    """Decode and validate an envelope without touching its payload; EventError if it is bad."""
    env = EventEnvelope()
    try:
        env.ParseFromString(envelope_bytes or b"")
    except DecodeError as exc:
        raise EventError(f"not an EventEnvelope: {exc}") from exc
    _validate(env, "envelope")
    if env.data.TypeName() != env.type:
        raise EventError(f"envelope type {env.type!r} does not match data type URL {env.data.type_url!r}")
    return env


def payload(env: EventEnvelope) -> Message:
    """The envelope's data as an instance of its own message class, validated; EventError if
    it cannot be read as that class or breaks its rules."""
    message = message_class(env.data.type_url)()
    try:
        unpacked = env.data.Unpack(message)
    except DecodeError as exc:  # Unpack parses: bytes that are not a `message` raise here
        raise EventError(f"unreadable payload {env.data.type_url}: {exc}") from exc
    if not unpacked:
        raise EventError(f"cannot unpack {env.data.type_url}")
    _validate(message, "payload")
    return message


def unpack(envelope_bytes: bytes | None) -> tuple[EventEnvelope, Message]:
    """Decode an envelope and its payload: `(envelope, payload message)`; EventError if bad."""
    env = parse(envelope_bytes)
    return env, payload(env)


def message_class(type_url_or_name: str) -> type[Message]:
    """The generated class for a type URL (`type.googleapis.com/x.y.Z`) or a full name (`x.y.Z`)."""
    name = type_url_or_name.rsplit("/", 1)[-1]
    try:
        descriptor = descriptor_pool.Default().FindMessageTypeByName(name)
    except KeyError as exc:
        raise UnknownEventType(f"unknown event type {name!r}: import its *_pb2 module first") from exc
    return message_factory.GetMessageClass(descriptor)


def _validate(message: Message, what: str) -> None:
    nul = nul_violations(message)
    if nul:
        raise EventError(f"invalid {what} {type_name(message)}: {'; '.join(map(str, nul))}")
    try:
        protovalidate.validate(message)
    # EvaluationError: a rule that fails to evaluate on these values; still poison to the consumer
    except (protovalidate.ValidationError, protovalidate.EvaluationError) as exc:
        raise EventError(f"invalid {what} {type_name(message)}: {exc}") from exc
