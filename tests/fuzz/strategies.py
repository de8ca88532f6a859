"""Hypothesis strategies for any request message, built from its descriptor and the
protovalidate rules on its fields: for each field a valid value, a value on each boundary the
rules set (min_len, max_len and one past them; gte, lte and one past them; max_items + 1, a
duplicate where items must be unique) and values that break them (not a UUID, a NUL, a huge
number, an unknown enum number). Nested messages recurse to a bounded depth.

    requests(CreateVideoRequest.DESCRIPTOR)  # a strategy of CreateVideoRequest messages

Half the messages keep to the rules (every required field set, every value valid), so the
handlers behind validation are reached too; the other half may break any rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from buf.validate import validate_pb2
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

MAX_DEPTH = 3
DEFAULT_MAX_LEN = 40  # a string without a max_len rule: long enough to be interesting
WRONG_STRINGS = ("a\x00b", "not-a-uuid", " ", "\u202eevil", "😀", "%00", "' OR 1=1 --", "../../etc/passwd")
INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1), FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1), FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1), FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1), FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1), FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
INT_RULES = {FieldDescriptor.TYPE_INT32: "int32", FieldDescriptor.TYPE_INT64: "int64",
             FieldDescriptor.TYPE_UINT32: "uint32", FieldDescriptor.TYPE_UINT64: "uint64",
             FieldDescriptor.TYPE_SINT32: "sint32", FieldDescriptor.TYPE_SINT64: "sint64"}


def rules_of(field: FieldDescriptor) -> validate_pb2.FieldRules:
    """The field's protovalidate rules (empty when it has none)."""
    options = field.GetOptions()
    return options.Extensions[validate_pb2.field] if options.HasExtension(validate_pb2.field) else \
        validate_pb2.FieldRules()


def strings(rules: validate_pb2.StringRules, valid_only: bool) -> st.SearchStrategy[str]:
    """Valid, boundary and wrong strings for these rules."""
    low, high = rules.min_len, rules.max_len if rules.HasField("max_len") else DEFAULT_MAX_LEN
    if rules.uuid:
        valid: st.SearchStrategy[str] = st.uuids().map(str)
    elif rules.email:
        valid = st.emails().filter(lambda e: len(e) <= high)
    elif rules.uri:
        valid = st.sampled_from(["https://example.test/v/1.mp4", "http://127.0.0.1/x?y=1#z"])
    else:
        valid = st.text(min_size=max(low, 1), max_size=min(high, 80)).filter(lambda t: "\x00" not in t)
    if valid_only:
        return valid
    edges = {"", "x" * low, "x" * high, "x" * (high + 1), "x" * max(0, low - 1), "é" * high}
    return st.one_of(valid, st.sampled_from(sorted(edges)), st.sampled_from(WRONG_STRINGS), st.text(max_size=300))


def integers(field: FieldDescriptor, rules: validate_pb2.FieldRules, valid_only: bool) -> st.SearchStrategy[int]:
    """In range, on each bound and one past it, and the type's extremes."""
    smallest, largest = INT_RANGES[field.type]
    kind = INT_RULES.get(field.type)
    typed = getattr(rules, kind) if kind and rules.HasField(kind) else None  # type: ignore[arg-type]
    low = typed.gte if typed is not None and typed.HasField("gte") else smallest
    high = typed.lte if typed is not None and typed.HasField("lte") else largest
    if valid_only:
        return st.integers(low, high)
    edges = {n for n in (low, high, low - 1, high + 1, 0, -1, smallest, largest) if smallest <= n <= largest}
    return st.one_of(st.integers(low, high), st.sampled_from(sorted(edges)))


def scalars(field: FieldDescriptor, rules: validate_pb2.FieldRules, depth: int,
            valid_only: bool) -> st.SearchStrategy[Any]:
    """Values of one element of the field (the field itself unless it is repeated)."""
    if field.type == FieldDescriptor.TYPE_STRING:
        return strings(rules.string, valid_only)
    if field.type in INT_RANGES:
        return integers(field, rules, valid_only)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type == FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None
        known = [v.number for v in field.enum_type.values]
        return st.sampled_from(known if valid_only else [*known, 99, -7])  # open enums: unknown numbers too
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64)
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(width=32 if field.type == FieldDescriptor.TYPE_FLOAT else 64)
    assert field.message_type is not None, f"{field.full_name}: a type without a strategy"
    return _messages(field.message_type, depth + 1, valid_only)


def values(field: FieldDescriptor, depth: int, valid_only: bool) -> st.SearchStrategy[Any]:
    """Values of the whole field: a list for a repeated one (up to one item past max_items)."""
    rules = rules_of(field)
    if not field.is_repeated:
        return scalars(field, rules, depth, valid_only)
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key, value = (scalars(field.message_type.fields_by_name[name], validate_pb2.FieldRules(), depth, valid_only)
                      for name in ("key", "value"))
        return st.dictionaries(key, value, max_size=3)
    items = scalars(field, rules.repeated.items, depth, valid_only)
    limit = rules.repeated.max_items if rules.repeated.HasField("max_items") else 3
    if valid_only:
        return st.lists(items, min_size=rules.repeated.min_items, max_size=min(limit, 5), unique=rules.repeated.unique)
    doubled = st.lists(items, min_size=1, max_size=2).map(lambda xs: xs + xs)  # breaks `unique`
    return st.one_of(st.lists(items, max_size=min(limit + 1, 12)), doubled)


def requests(descriptor: Descriptor) -> st.SearchStrategy[Message]:
    """Messages of this type: half keep to the rules, half may break any of them."""
    return st.one_of(_messages(descriptor, 0, valid_only=True), _messages(descriptor, 0, valid_only=False))


def _messages(descriptor: Descriptor, depth: int, valid_only: bool) -> st.SearchStrategy[Message]:
    """Messages with any subset of their fields set (the required ones always, when valid)."""
    cls = message_factory.GetMessageClass(descriptor)
    if depth > MAX_DEPTH:
        return st.just(cls())
    fields = {field.name: values(field, depth, valid_only) for field in descriptor.fields}
    required = {name: fields.pop(name) for name in list(fields)
                if valid_only and rules_of(descriptor.fields_by_name[name]).required}
    return st.fixed_dictionaries(required, optional=fields).map(_builder(cls, descriptor))


def _builder(cls: type[Message], descriptor: Descriptor) -> Callable[[dict[str, Any]], Message]:
    def build(chosen: dict[str, Any]) -> Message:
        message = cls()
        for name, value in chosen.items():
            _set(message, descriptor.fields_by_name[name], value)
        return message
    return build


def _set(message: Message, field: FieldDescriptor, value: Any) -> None:
    target = getattr(message, field.name)
    if field.is_repeated and isinstance(value, dict):
        assert field.message_type is not None
        for key, item in value.items():
            if field.message_type.fields_by_name["value"].message_type is not None:
                target[key].CopyFrom(item)
            else:
                target[key] = item
    elif field.is_repeated and field.message_type is not None:
        for item in value:
            target.add().CopyFrom(item)
    elif field.is_repeated:
        target.extend(value)
    elif field.message_type is not None:
        target.CopyFrom(value)
    else:
        setattr(message, field.name, value)

