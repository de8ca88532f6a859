"""protovalidate rules as JSON Schema keywords (OpenAPI 3.0's dialect).

Neither protoc-gen-openapiv2 nor openapiv3 reads buf.validate options, and the generator's
own per-field options (`openapi_configuration`) reach body schemas but not query parameters
or array items. So the rules are translated here, from the same descriptors the servers
validate with. A rule JSON Schema can say becomes a keyword; any other rule (a CEL
expression, bounds on a 64-bit integer, which proto3 JSON writes as a string) is written
into the description, so the document never hides a rule the server enforces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from buf.validate import validate_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

STRING_FORMATS = {"uuid": "uuid", "email": "email", "uri": "uri", "uri_ref": "uri-reference"}
STRING_KEYWORDS = {"min_len": "minLength", "max_len": "maxLength", "pattern": "pattern"}
# Kinds whose values are JSON numbers; 64-bit ones are JSON strings in proto3 JSON.
NUMBER_KINDS = ("int32", "uint32", "sint32", "fixed32", "sfixed32", "float", "double")
REPEATED_KEYWORDS = {"min_items": "minItems", "max_items": "maxItems"}


@dataclass
class Translation:
    """What a field's rules add to its schema."""

    keywords: dict[str, Any] = field(default_factory=dict)
    required: bool = False
    described: list[str] = field(default_factory=list)  # rules only the description can say


def field_rules(descriptor: FieldDescriptor) -> validate_pb2.FieldRules | None:
    options = descriptor.GetOptions()
    if not options.HasExtension(validate_pb2.field):
        return None
    return options.Extensions[validate_pb2.field]


def message_rules(message: Descriptor) -> list[str]:
    """The message-level CEL rules, as the sentences their authors wrote for them."""
    options = message.GetOptions()
    if not options.HasExtension(validate_pb2.message):
        return []
    return [rule.message or rule.expression for rule in options.Extensions[validate_pb2.message].cel]


def _set_fields(rules: Message) -> dict[str, Any]:
    return {descriptor.name: value for descriptor, value in rules.ListFields()}


def _string(rules: validate_pb2.StringRules, out: Translation) -> None:
    for name, value in _set_fields(rules).items():
        if name in STRING_KEYWORDS:
            out.keywords[STRING_KEYWORDS[name]] = value
        elif name in STRING_FORMATS and value:
            out.keywords["format"] = STRING_FORMATS[name]
        elif name == "len":
            out.keywords.update(minLength=value, maxLength=value)
        elif name == "const":
            out.keywords["enum"] = [value]
        else:
            out.described.append(f"string.{name}: {value}")


def _number(kind: str, rules: Message, out: Translation) -> None:
    for name, value in _set_fields(rules).items():
        if name in ("gte", "gt"):
            out.keywords.update(minimum=value, **({"exclusiveMinimum": True} if name == "gt" else {}))
        elif name in ("lte", "lt"):
            out.keywords.update(maximum=value, **({"exclusiveMaximum": True} if name == "lt" else {}))
        elif name == "const":
            out.keywords["enum"] = [value]
        else:
            out.described.append(f"{kind}.{name}: {value}")


def _repeated(rules: validate_pb2.RepeatedRules, out: Translation) -> None:
    for name, value in _set_fields(rules).items():
        if name in REPEATED_KEYWORDS:
            out.keywords[REPEATED_KEYWORDS[name]] = value
        elif name == "unique":
            out.keywords["uniqueItems"] = value
    if rules.HasField("items"):
        items = translate(rules.items)
        out.keywords["items"] = items.keywords
        out.described.extend(f"each item: {text}" for text in items.described)


def _ignored_when_zero(keywords: dict[str, Any], zero: Any) -> dict[str, Any]:
    """IGNORE_IF_ZERO_VALUE: the zero value (an empty request_id, say) is valid as well."""
    return {"anyOf": [{"enum": [zero]}, keywords]} if keywords else {}


def translate(rules: validate_pb2.FieldRules, zero: Any = None) -> Translation:
    """The schema keywords (and required flag) that `rules` call for."""
    out = Translation(required=rules.required)
    kind = rules.WhichOneof("type")
    if kind == "string":
        _string(rules.string, out)
    elif kind in NUMBER_KINDS:
        _number(kind, getattr(rules, kind), out)
    elif kind == "repeated":
        _repeated(rules.repeated, out)
    elif kind is not None:
        out.described.extend(f"{kind}.{name}: {value}" for name, value in _set_fields(getattr(rules, kind)).items())
    out.described.extend(rule.message or rule.expression for rule in rules.cel)
    if rules.ignore == validate_pb2.IGNORE_IF_ZERO_VALUE and zero is not None:
        out.keywords = _ignored_when_zero(out.keywords, zero)
    return out


def zero_value(descriptor: FieldDescriptor) -> Any:
    """The field's zero value as proto3 JSON writes it (None when it has no JSON scalar)."""
    if descriptor.is_repeated or descriptor.message_type is not None:
        return None
    if descriptor.type == FieldDescriptor.TYPE_STRING:
        return ""
    return None
