"""A request built to break one protovalidate rule, found in the rules the instance reflects.

For each field of each request message, the kit reads its `buf.validate.field` rules from
the reflected FileDescriptorProto and tries values that break them (a non-UUID for
`string.uuid`, one character too many for `max_len`, one below `gte`, ...). protovalidate,
the reference implementation of those rules, says which fields such a request breaks; the
kit prefers a request that breaks exactly one field, so the BadRequest it expects is exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import protovalidate
from buf.validate import validate_pb2
from google.protobuf import descriptor_pb2, json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message

from tests.conformance.kit.api import Api

_validator = protovalidate.Validator()
NOT_A_UUID, NOT_AN_EMAIL, NOT_A_URI = "kit-not-a-uuid", "kit-not-an-email", "kit: not a uri"


@dataclass(frozen=True)
class BrokenRequest:
    """A request of `method` that breaks the rules of `fields` (paths as MESH.md writes them)."""

    method: MethodDescriptor
    request: Message
    fields: frozenset[str]

    def __str__(self) -> str:
        body = json_format.MessageToJson(self.request, indent=None)
        return f"{self.method.containing_service.full_name}/{self.method.name} {body}"


def broken_request(api: Api) -> BrokenRequest | None:
    """The first request (in the API's order) that breaks exactly one field's rule; else the
    first that breaks any; None when no field of any request has a rule the kit can break."""
    fallback: BrokenRequest | None = None
    for method in api.methods():
        for field, value in _candidates(api, method.input_type):
            request = api.message(method.input_type)
            try:
                json_format.ParseDict({field.name: value}, request, descriptor_pool=api.pool)
            except json_format.ParseError:  # e.g. -1 for an unsigned field: no such request
                continue
            fields = violated_fields(request)
            if fields == {field.name}:
                return BrokenRequest(method, request, frozenset(fields))
            if field.name in fields and fallback is None:
                fallback = BrokenRequest(method, request, frozenset(fields))
    return fallback


def violated_fields(message: Message) -> set[str]:
    """The field paths (`title`, `tags[2]`, `author.name`) that the message's rules reject."""
    return {_path(violation) for violation in _validator.collect_violations(message)}


def _path(violation: protovalidate.Violation) -> str:
    text = ""
    path = violation.proto.field
    for element in path.elements if path is not None else ():
        text += ("." if text else "") + element.field_name
        if element.subscript is not None:
            kind, value = element.subscript.field, element.subscript.value
            text += f'["{value}"]' if kind == "string_key" else f"[{str(value).lower()}]"
    return text


def _candidates(api: Api, message: Descriptor) -> Iterator[tuple[FieldDescriptor, Any]]:
    declared = _declaration(api.file_of(message), message.full_name)
    for field_proto in declared.field:
        rules = field_proto.options.Extensions[validate_pb2.field]
        field = message.fields_by_name[field_proto.name]
        yield from ((field, value) for value in _breaking_values(rules, field))


def _declaration(file: descriptor_pb2.FileDescriptorProto, full_name: str) -> descriptor_pb2.DescriptorProto:
    """The DescriptorProto of a (possibly nested) message in its file."""
    names = full_name.removeprefix(f"{file.package}.").split(".") if file.package else full_name.split(".")
    candidates = list(file.message_type)
    found: descriptor_pb2.DescriptorProto | None = None
    for name in names:
        found = next(message for message in candidates if message.name == name)
        candidates = list(found.nested_type)
    assert found is not None
    return found


def _breaking_values(rules: validate_pb2.FieldRules, field: FieldDescriptor) -> Iterator[Any]:
    kind = rules.WhichOneof("type")
    if kind == "repeated" and field.is_repeated:
        yield from _repeated(rules.repeated)
    elif kind == "string" and field.type == FieldDescriptor.TYPE_STRING:
        yield from _string(rules.string)
    elif kind in ("int32", "int64", "sint32", "sint64", "uint32", "uint64"):
        yield from _number(getattr(rules, kind))


def _string(rules: validate_pb2.StringRules) -> Iterator[str]:
    if rules.uuid or rules.tuuid:
        yield NOT_A_UUID
    if rules.email:
        yield NOT_AN_EMAIL
    if rules.uri:
        yield NOT_A_URI
    if rules.HasField("max_len"):
        yield "k" * (rules.max_len + 1)
    if rules.min_len > 1:
        yield "k" * (rules.min_len - 1)
    if rules.HasField("const"):
        yield rules.const + "k"


def _number(rules: Any) -> Iterator[int]:
    if rules.HasField("gte"):
        yield rules.gte - 1
    if rules.HasField("gt"):
        yield rules.gt
    if rules.HasField("lte"):
        yield rules.lte + 1
    if rules.HasField("lt"):
        yield rules.lt


def _repeated(rules: validate_pb2.RepeatedRules) -> Iterator[list[str]]:
    items = rules.items.string if rules.items.HasField("string") else None
    if items is not None and (items.uuid or items.tuuid):
        yield [NOT_A_UUID]
    if rules.HasField("max_items"):
        yield [f"00000000-0000-4000-8000-{n:012d}" for n in range(rules.max_items + 1)]
    if rules.unique:
        yield ["00000000-0000-4000-8000-000000000000"] * 2
