"""Request validation: the rules declared in the protos (protovalidate), and two that hold
for every string field of every service (MESH.md, "Errors"), checked here once.

A request that breaks a rule becomes `errors.InvalidArgument` naming each field by its
path (`title`, `tags[2]`, `labels["k"]`, `author.name`), so the status mapping stays in
one place and the gateway can answer 400 with the fields. The two rules every string obeys:
no NUL character (U+0000: Postgres text cannot hold it, and no vidmesh text needs it), and
valid UTF-8 (proto3 requires it; a request that is not, say a query parameter holding a lone
surrogate, cannot even be decoded, so it arrives here as `Undecodable`, never as a crash).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import protovalidate
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.internal.decoder import _DecodeVarint  # type: ignore[attr-defined]
from google.protobuf.message import DecodeError, Message

from mesh.errors import FieldViolation, InvalidArgument

# One validator for the process: it caches the compiled rules of every message type.
_validator = protovalidate.Validator()


def field_path(violation: protovalidate.Violation) -> str:
    """The dotted path of the field a violation is about; "" for a message-level rule."""
    parts: list[str] = []
    path = violation.proto.field
    for element in path.elements if path is not None else ():
        parts.append(("." if parts else "") + element.field_name)
        if element.subscript is not None:
            parts.append(_subscript(element.subscript.field, element.subscript.value))
    return "".join(parts)


def _subscript(kind: str, value: Any) -> str:
    if kind == "string_key":
        return f'["{value}"]'
    if kind == "bool_key":
        return f"[{str(value).lower()}]"
    return f"[{value}]"


def violations_of(message: Message) -> list[FieldViolation]:
    """Every rule the message breaks, as field violations (empty when it is valid)."""
    return [
        FieldViolation(field_path(violation), violation.proto.message or violation.proto.rule_id)
        for violation in _validator.collect_violations(message)
    ]


NUL = "must not contain the NUL character (U+0000)"
NOT_UTF8 = "must be valid UTF-8"


@dataclass(frozen=True)
class Undecodable:
    """The bytes of a request its message type could not parse, and why."""

    descriptor: Descriptor
    data: bytes
    error: DecodeError


def validate(message: Message | Undecodable) -> None:
    """Raise InvalidArgument naming every offending field when the message breaks a rule.

    A rule that cannot be compiled is a bug in the proto and raises
    protovalidate.CompilationError, which the server reports as INTERNAL.
    """
    if isinstance(message, Undecodable):
        raise InvalidArgument.of(undecodable_violations(message))
    found = nul_violations(message) or violations_of(message)
    if found:
        raise InvalidArgument.of(found)


def nul_violations(message: Message, prefix: str = "") -> list[FieldViolation]:
    """Every string in the message (nested ones too) that holds a NUL, by field path."""
    found: list[FieldViolation] = []
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            items = [(f'{path}["{key}"]', key, item) for key, item in value.items()]
            found += [FieldViolation(where, NUL) for where, key, _ in items if isinstance(key, str) and "\0" in key]
            found += [v for where, _, item in items for v in _nul_in(item, where)]
        elif field.is_repeated:
            found += [v for n, item in enumerate(value) for v in _nul_in(item, f"{path}[{n}]")]
        else:
            found += _nul_in(value, path)
    return found


def _nul_in(value: Any, path: str) -> list[FieldViolation]:
    if isinstance(value, str):
        return [FieldViolation(path, NUL)] if "\0" in value else []
    if isinstance(value, Message):
        return nul_violations(value, f"{path}.")
    return []


def undecodable_violations(request: Undecodable) -> list[FieldViolation]:
    """Which string fields of an undecodable request are not UTF-8 (else the message as a whole)."""
    try:
        found = _not_utf8(request.descriptor, request.data, "")
    except (IndexError, ValueError, DecodeError):  # not even wire format
        found = []
    return found or [FieldViolation("", f"the request is not a valid {request.descriptor.full_name}")]


def _not_utf8(descriptor: Descriptor, data: bytes, prefix: str) -> list[FieldViolation]:
    """Walk the wire format: a length-delimited string field that is not UTF-8, or a nested
    message that holds one (map values and repeated fields by their position)."""
    found: list[FieldViolation] = []
    seen: dict[int, int] = {}
    position = 0
    while position < len(data):
        tag, position = _DecodeVarint(data, position)
        number, wire_type = tag >> 3, tag & 7
        if wire_type != 2:  # varint, fixed32/64: skip it
            position = _skip(data, position, wire_type)
            continue
        size, position = _DecodeVarint(data, position)
        chunk, position = data[position:position + size], position + size
        field = descriptor.fields_by_number.get(number)
        if field is None:
            continue
        index = seen.get(number, 0)
        seen[number] = index + 1
        path = prefix + field.name + (f"[{index}]" if field.is_repeated else "")
        if field.type == FieldDescriptor.TYPE_STRING:
            try:
                chunk.decode("utf-8")
            except UnicodeDecodeError:
                found.append(FieldViolation(path, NOT_UTF8))
        elif field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type is not None:
            found += _not_utf8(field.message_type, chunk, f"{path}.")
    return found


def _skip(data: bytes, position: int, wire_type: int) -> int:
    if wire_type == 0:
        return int(_DecodeVarint(data, position)[1])
    if wire_type in (1, 5):
        return position + (8 if wire_type == 1 else 4)
    raise ValueError(f"wire type {wire_type} is not proto3")


def lenient(deserialize: Any) -> Any:
    """A request deserializer that hands an undecodable request on as `Undecodable` (which
    validation turns into INVALID_ARGUMENT) instead of raising, which gRPC would answer with
    UNKNOWN."""
    message_type = getattr(deserialize, "__self__", None)
    if deserialize is None or getattr(deserialize, "vidmesh_lenient", False) or message_type is None:
        return deserialize

    def parse(data: bytes) -> Any:
        try:
            return deserialize(data)
        except DecodeError as error:
            return Undecodable(message_type.DESCRIPTOR, data, error)

    parse.vidmesh_lenient = True  # type: ignore[attr-defined]
    return parse
