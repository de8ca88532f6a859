"""The REST surface as the descriptors declare it: every google.api.http rule, its method and
the messages it reads and writes.

Read from the Python modules `make protos` generated (gen/python), so the rules are the ones
the servers themselves run, with protovalidate's extensions already registered.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor, ServiceDescriptor

VERBS = ("get", "put", "post", "delete", "patch")
TEMPLATE_VARIABLE = re.compile(r"\{([a-z0-9_.]+)(=[^}]*)?\}")


@dataclass(frozen=True)
class Route:
    """One HTTP binding of an RPC, with its path as OpenAPI writes it (JSON names)."""

    method: MethodDescriptor
    verb: str
    path: str
    body: str


def load_services(python_root: Path) -> list[ServiceDescriptor]:
    """Import every generated vidmesh module and return the services they declare."""
    for module in sorted(python_root.glob("vidmesh/**/*_pb2.py")):
        importlib.import_module(".".join(module.relative_to(python_root).with_suffix("").parts))
    pool = descriptor_pool.Default()
    services: list[ServiceDescriptor] = []
    for module in sorted(python_root.glob("vidmesh/**/*_pb2.py")):
        name = module.relative_to(python_root).as_posix().removesuffix("_pb2.py") + ".proto"
        services.extend(pool.FindFileByName(name).services_by_name.values())
    return services


def field_by_json_path(message: Descriptor, dotted: str) -> FieldDescriptor | None:
    """The field that a query parameter or path variable names, e.g. `pageSize` or `a.b`."""
    field: FieldDescriptor | None = None
    for part in dotted.split("."):
        field = next((f for f in message.fields if part in (f.json_name, f.name)), None)
        if field is None:
            return None
        if field.message_type is not None:
            message = field.message_type
    return field


def _openapi_path(template: str, request: Descriptor) -> str:
    """`/videos/{video_id}` -> `/videos/{videoId}`: protoc-gen-openapiv2 names variables by
    their fields' JSON names, as clients send them."""

    def json_name(match: re.Match[str]) -> str:
        field = field_by_json_path(request, match.group(1))
        if field is None:
            raise ValueError(f"{template}: no field {match.group(1)!r} in {request.full_name}")
        parts = match.group(1).split(".")
        return "{" + ".".join([*parts[:-1], field.json_name]) + "}"

    return TEMPLATE_VARIABLE.sub(json_name, template)


def _bindings(rule: http_pb2.HttpRule) -> Iterator[http_pb2.HttpRule]:
    yield rule
    for extra in rule.additional_bindings:
        yield from _bindings(extra)


def routes(services: list[ServiceDescriptor]) -> list[Route]:
    """Every google.api.http binding of every method, additional bindings included."""
    found: list[Route] = []
    for service in services:
        for method in service.methods:
            options = method.GetOptions()
            if not options.HasExtension(annotations_pb2.http):
                continue
            for rule in _bindings(options.Extensions[annotations_pb2.http]):
                verb = rule.WhichOneof("pattern")
                if verb not in VERBS:
                    raise ValueError(f"{method.full_name}: unsupported HTTP pattern {verb!r}")
                template = getattr(rule, verb)
                found.append(Route(method, verb, _openapi_path(template, method.input_type), rule.body))
    return found


def reachable(roots: list[Descriptor]) -> set[str]:
    """Full names of the messages `roots` contain, directly or through their fields."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        message = stack.pop()
        if message.full_name in seen:
            continue
        seen.add(message.full_name)
        stack.extend(f.message_type for f in message.fields if f.message_type is not None)
    return seen
