"""Poison on every consumed topic, into the running stack's real consumers.

MESH.md §10 "Events": a record a consumer cannot read or apply (not an envelope, a payload
that cannot be read or breaks its rules, the string rule of §6 included: a NUL) goes to
`<group>.dlq` with the dlq.* headers while the consumer goes on; an event type without a
handler is skipped; a second event with an id the inbox has seen is ignored, whatever its
body. Each batch is checked for every group that consumes the topic, the Go one's too: that
the group committed past every record (it went on) and which records its dead-letter topic
received.

Examples are not shrunk: each one is a round trip through the stack, and a consumer that is
stuck fails every later example the same way, so shrinking would only repeat the wait.
VIDMESH_POISON_EXAMPLES sets the batches per topic (make test's bound by default)."""

from __future__ import annotations

import importlib
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.internal.encoder import _VarintBytes  # type: ignore[attr-defined]
from google.protobuf.message import DecodeError, Message
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from vidmesh.events.v1.envelope_pb2 import EventEnvelope
from vidmesh.notification.v1 import notification_pb2
from vidmesh.notification.v1 import notification_service_pb2 as notification_pb
from vidmesh.notification.v1 import notification_service_pb2_grpc as notification_grpc
from vidmesh.users.v1.events_pb2 import UserFollowed

from mesh import events, topology
from mesh.kafka import dlq_topic
from mesh.settings import ROOT, Settings
from mesh.validation import nul_violations, violations_of
from scripts.devstack.stack import Stack
from services.email.consumer import HANDLERS as EMAIL
from services.notification.consumer import HANDLERS as NOTIFICATION
from services.video_query.handlers import HANDLERS as VIDEO_QUERY
from tests.fuzz.broker import Broker
from tests.fuzz.instances import channel_to
from tests.fuzz.strategies import requests

EXAMPLES = int(os.environ.get("VIDMESH_POISON_EXAMPLES", "4"))
PASS_S = 30.0  # a healthy group gets past a batch in well under a second; this covers a rebalance
CALL_S = 10.0
UNKNOWN_TYPE = "vidmesh.fuzz.v1.NoSuchEvent"
# The Go consumer's handler table, read where it is written: `name(&videov1.VideoCreated{})`.
GO_HANDLER_TABLES = {"recommendations": ROOT / "services/recommendations/adapters/events/events.go"}
GO_HANDLER = re.compile(r"name\(&(\w+)v1\.(\w+)\{\}\)")
PYTHON_HANDLERS: dict[str, Mapping[type[Any], object]] = {
    "video-query": VIDEO_QUERY, "notification": NOTIFICATION, "email": EMAIL}
CONSUMED = sorted({topic for service in topology.SERVICES for topic in service.consumes})


def groups_of(topic: str) -> list[str]:
    """The consumer groups (service names) that read a topic."""
    return [service.name for service in topology.SERVICES if topic in service.consumes]


@cache
def handled_by(group: str) -> frozenset[str]:
    """The event types a group has a handler for (the others it skips)."""
    if group in PYTHON_HANDLERS:
        return frozenset(events.type_name(cls) for cls in PYTHON_HANDLERS[group])
    assert group in GO_HANDLER_TABLES, f"{group} consumes events: add its handler table to this test"
    named = frozenset(f"vidmesh.{context}.v1.{message}" for context, message in
                      GO_HANDLER.findall(GO_HANDLER_TABLES[group].read_text()))
    assert named, f"no handler found in {GO_HANDLER_TABLES[group]}: has the table changed its shape?"
    for name in named:
        descriptor_pool.Default().FindMessageTypeByName(name)  # KeyError: the table was misread
    return named


def event_types(topic: str) -> list[str]:
    """The event types of a topic's bounded context (`users.v1.events` -> vidmesh.users.v1.*)."""
    module = importlib.import_module(f"vidmesh.{topic.removesuffix('.events')}.events_pb2")
    return sorted(m.full_name for m in module.DESCRIPTOR.message_types_by_name.values())


@dataclass(frozen=True)
class Poison:
    """One bad record and the event type it claims to be ("" when it is not even an envelope)."""

    case: str
    value: bytes
    claims: str = ""

    def dead_lettered_by(self, group: str) -> bool:
        """Must this group dead-letter it (else it skips it)?"""
        return self.case == "not an envelope" or self.claims in handled_by(group)


def envelope_of(type_name: str, data: bytes) -> bytes:
    """A valid envelope whose payload is `data`, claimed to be a `type_name`."""
    env = EventEnvelope(id=str(uuid.uuid4()), source="/vidmesh/fuzz", type=type_name, spec_version="1.0",
                        aggregate_id=str(uuid.uuid4()), data_content_type=events.CONTENT_TYPE)
    env.time.GetCurrentTime()
    env.data.type_url, env.data.value = f"{events.TYPE_URL_PREFIX}{type_name}", data
    events.parse(env.SerializeToString())  # the envelope itself must pass: only its payload is bad
    return env.SerializeToString()


def _descriptor(type_name: str) -> Descriptor:
    return descriptor_pool.Default().FindMessageTypeByName(type_name)


def _not_an_envelope(value: bytes) -> bool:
    try:
        events.parse(value)
    except events.EventError:
        return True
    return False


def _unreadable_as(type_name: str, data: bytes) -> bool:
    try:
        events.message_class(type_name).FromString(data)
    except DecodeError:
        return True
    return False


def broken_tails(type_name: str) -> list[bytes]:
    """Endings that make any bytes unreadable as `type_name`: a field cut short, a wire type
    protobuf does not have, a string field that is not UTF-8."""
    tails = [b"\x0a\x05ab", b"\x0f"]
    strings = [f for f in _descriptor(type_name).fields if f.type == FieldDescriptor.TYPE_STRING]
    if strings:
        tails.append(_VarintBytes(strings[0].number << 3 | 2) + b"\x03\xed\xa0\x80")
    return tails


def unreadable(type_name: str) -> st.SearchStrategy[Poison]:
    garbage = st.tuples(st.binary(max_size=40), st.sampled_from(broken_tails(type_name))).map(b"".join)
    return garbage.filter(lambda data: _unreadable_as(type_name, data)).map(
        lambda data: Poison("unreadable payload", envelope_of(type_name, data), type_name))


def _breaks_a_rule(message: Message) -> bool:
    return bool(nul_violations(message) or violations_of(message))


def breaking_rules(type_name: str) -> st.SearchStrategy[Poison]:
    return requests(_descriptor(type_name)).filter(_breaks_a_rule).map(
        lambda m: Poison("payload breaks its rules", envelope_of(type_name, m.SerializeToString()), type_name))


def holding_a_nul(type_name: str) -> st.SearchStrategy[Poison]:
    """A payload with a NUL in one of its strings: Postgres could not store it, so a consumer
    that took it would fail on it forever instead of dead-lettering it."""
    strings = [f for f in _descriptor(type_name).fields if f.type == FieldDescriptor.TYPE_STRING
               and not f.is_repeated]

    def poisoned(chosen: tuple[Message, FieldDescriptor, str]) -> Poison:
        message, field, text = chosen
        setattr(message, field.name, text.replace("\0", "") + "\0")
        return Poison("a string holds a NUL", envelope_of(type_name, message.SerializeToString()), type_name)

    if not strings:
        return st.nothing()
    return st.tuples(requests(_descriptor(type_name)), st.sampled_from(strings), st.text(max_size=8)).map(poisoned)


def poison(topic: str) -> st.SearchStrategy[Poison]:
    """Every kind of bad record for this topic."""
    types = st.sampled_from(event_types(topic))
    return st.one_of(
        st.binary(max_size=200).filter(_not_an_envelope).map(lambda v: Poison("not an envelope", v)),
        types.flatmap(unreadable), types.flatmap(breaking_rules), types.flatmap(holding_a_nul),
        st.binary(max_size=40).map(lambda d: Poison("unknown type", envelope_of(UNKNOWN_TYPE, d), UNKNOWN_TYPE)))


@pytest.fixture(scope="module")
def broker(stack: Stack, settings: Settings) -> Iterator[Broker]:
    kafka = Broker(f"{settings.host}:{settings.kafka_port}", logs=stack.layout.logs)
    yield kafka
    kafka.close()


@pytest.mark.parametrize("topic", CONSUMED)
def test_poison_is_dead_lettered_or_skipped_and_every_consumer_goes_on(broker: Broker, topic: str) -> None:
    groups = groups_of(topic)

    @examples(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True, phases=[Phase.generate],
              report_multiple_bugs=False, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(poison(topic), min_size=1, max_size=4))
    def lands_where_documented(batch: list[Poison]) -> None:
        marks = {group: broker.ends(dlq_topic(group)) for group in groups}
        records = broker.produce(topic, [p.value for p in batch])
        broker.wait_passed(groups, records, PASS_S)
        for group in groups:
            lettered = broker.dead_letters(dlq_topic(group), since=marks[group])
            for item, record in zip(batch, records, strict=True):
                expected = item.dead_lettered_by(group)
                assert (record in lettered) == expected, (
                    f"{group}: {item.case} ({item.claims or 'raw bytes'}) at {record} "
                    f"{'not ' if expected else ''}found in {dlq_topic(group)}")
                assert not expected or lettered[record].get("dlq.error"), f"{group}: no dlq.error on {record}"

    lands_where_documented()


def test_a_second_event_with_an_id_already_seen_is_ignored_whatever_its_body(
        broker: Broker, settings: Settings) -> None:
    channel, fan, other = (str(uuid.uuid4()) for _ in range(3))
    first = events.envelope(UserFollowed(follower_id=fan, channel_id=channel, follower_count=1),
                            "/vidmesh/fuzz", channel, channel)
    twin = EventEnvelope()
    twin.CopyFrom(first)
    twin.data.Pack(UserFollowed(follower_id=other, channel_id=channel, follower_count=2))
    groups = groups_of(topology.USERS_EVENTS)
    marks = {group: broker.ends(dlq_topic(group)) for group in groups}
    records = broker.produce(topology.USERS_EVENTS, [first.SerializeToString(), twin.SerializeToString()],
                             key=channel.encode())
    broker.wait_passed(groups, records, PASS_S)
    for group in groups:
        lettered = broker.dead_letters(dlq_topic(group), since=marks[group])
        assert not set(records) & set(lettered), f"{group} dead-lettered a valid event: {lettered}"
    with channel_to(settings, topology.service("notification")) as to_notification:
        inbox = notification_grpc.NotificationServiceStub(to_notification)
        told = inbox.ListNotifications(notification_pb.ListNotificationsRequest(user_id=channel), timeout=CALL_S)
    followers = [n.actor_id for n in told.notifications if n.kind == notification_pb2.NOTIFICATION_KIND_NEW_FOLLOWER]
    assert followers == [fan], "the second body of a seen event id was applied"
