"""The breaker's own string rule (MESH.md §6): a NUL, or bytes that are not UTF-8, in a string
field is INVALID_ARGUMENT naming the field. Written here, not taken from mesh/validation, so
that the kit's check of the rule is checked against a second implementation of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.internal.decoder import _DecodeVarint  # type: ignore[attr-defined]
from google.protobuf.message import DecodeError, Message

from tests.conformance.breaker.settings import Settings


@dataclass(frozen=True)
class Undecodable:
    """Request bytes its message type could not parse, with the string field that is not UTF-8."""

    field: str


def deserializer(settings: Settings, request_class: type[Message]) -> Callable[[bytes], Message | Undecodable]:
    """The request's parser; bytes it cannot parse come out as an Undecodable for validation
    to refuse (unless told to break that: then grpc answers the parser's exception itself)."""
    def parse(data: bytes) -> Message | Undecodable:
        try:
            return request_class.FromString(data)
        except DecodeError:
            if settings.breaking("undecodable-is-internal"):
                raise
            return Undecodable(not_utf8(cast(Descriptor, request_class.DESCRIPTOR), data))
    return parse


def not_utf8(descriptor: Descriptor, data: bytes) -> str:
    """The first top-level string field whose bytes are not UTF-8 ("" when none is)."""
    position = 0
    try:
        while position < len(data):
            tag, position = _DecodeVarint(data, position)
            wire = tag & 7
            if wire == 0:
                _, position = _DecodeVarint(data, position)
            elif wire in (1, 5):
                position += 8 if wire == 1 else 4
            elif wire == 2:
                size, position = _DecodeVarint(data, position)
                chunk, position = data[position:position + size], position + size
                field = descriptor.fields_by_number.get(tag >> 3)
                if field is not None and field.type == FieldDescriptor.TYPE_STRING:
                    chunk.decode()
            else:
                return ""
    except UnicodeDecodeError:
        return field.name if field is not None else ""
    except (IndexError, DecodeError):
        return ""
    return ""


def with_nul(message: Message) -> list[str]:
    """The top-level string fields holding a NUL."""
    return [field.name for field, value in message.ListFields()
            if field.type == FieldDescriptor.TYPE_STRING and not field.is_repeated and "\0" in value]
