"""Which RPCs may be retried: reads, and writes that carry a request_id.

Decided from the contracts (the descriptor set `make protos` writes, which Envoy's transcoder
reads too), not from the entries: a router may ask for retries on a whole service, and the
control plane still never retries a write that would be applied twice (users' Login). A read
is named for what it does (Get, List, Search, BatchGet, Trending); a write is safe when its
request has a `request_id`, because the service replays the first answer (MESH.md §8).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

READ = re.compile(r"(Get|List|Search|BatchGet|Trending)[A-Z0-9_]?\w*")
REQUEST_ID = "request_id"


@dataclass(frozen=True)
class Method:
    """One RPC: its gRPC path, whether a retry is safe, and its REST bindings (verb, template)."""

    path: str
    safe: bool
    rest: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def _bindings(method: descriptor_pb2.MethodDescriptorProto) -> tuple[tuple[str, str], ...]:
    rule = method.options.Extensions[annotations_pb2.http]
    found = []
    for each in (rule, *rule.additional_bindings):
        verb = each.WhichOneof("pattern")
        if verb and verb != "custom":
            found.append((verb.upper(), getattr(each, verb)))
    return tuple(found)


class Catalog:
    """Every RPC of the contracts, by gRPC path."""

    def __init__(self, methods: list[Method]) -> None:
        self.methods = {method.path: method for method in methods}

    @classmethod
    def from_descriptor_set(cls, path: Path) -> Catalog:
        """Read a FileDescriptorSet (protoc --include_imports --descriptor_set_out)."""
        files = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes()).file
        fields = {f".{file.package}.{message.name}": {field.name for field in message.field}
                  for file in files for message in file.message_type}
        return cls([
            Method(path=f"/{file.package}.{service.name}/{method.name}",
                   safe=bool(READ.fullmatch(method.name)) or REQUEST_ID in fields.get(method.input_type, set()),
                   rest=_bindings(method))
            for file in files for service in file.service for method in service.method])

    def unsafe(self, takes: Callable[[str], bool]) -> list[Method]:
        """The writes without request_id among the methods whose gRPC path `takes` accepts, sorted."""
        return [m for path, m in sorted(self.methods.items()) if not m.safe and takes(path)]
