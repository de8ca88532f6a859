"""Request validation from the rules declared in the protos (protovalidate).

A request that breaks a rule becomes `errors.InvalidArgument` naming each field by its
path (`title`, `tags[2]`, `labels["k"]`, `author.name`), so the status mapping stays in
one place and the gateway can answer 400 with the fields.
"""

from __future__ import annotations

from typing import Any

import protovalidate
from google.protobuf.message import Message

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


def validate(message: Message) -> None:
    """Raise InvalidArgument naming every offending field when the message breaks a rule.

    A rule that cannot be compiled is a bug in the proto and raises
    protovalidate.CompilationError, which the server reports as INTERNAL.
    """
    found = violations_of(message)
    if found:
        raise InvalidArgument.of(found)
