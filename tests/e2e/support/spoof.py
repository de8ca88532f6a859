"""A caller who pretends to be someone else: every RPC in the descriptor set Envoy loads,
a request for each one built from its fields, and the same call over REST, gRPC and
gRPC-web with any headers.

Requests are built by field name, so a new RPC is covered as soon as it exists; a field
with a name not listed here fails the test until someone says what to send in it.
"""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.api import annotations_pb2
from google.protobuf import descriptor, descriptor_pb2, json_format, message, message_factory

from mesh.settings import ROOT
from tests.e2e.support.grpc_gateway import GatewayGrpc, Outcome, grpc_web_call
from tests.e2e.support.rest import PASSWORD, Account, Gateway

DESCRIPTORS = ROOT / "gen" / "vidmesh.binpb"
# Fields a request may leave at their zero value.
OPTIONAL = {"page_size", "page_token", "min_version", "expected_version", "description", "tags", "media_url",
            "unread_only", "notification_ids"}
# Body fields that name a user in no exposed request: the transcoder must not let them in.
SMUGGLED = ("viewerId", "actorId", "followerId", "ownerId", "authorId")


@dataclass(frozen=True)
class Scene:
    """A victim with a draft only they may see and an unread notification, and an attacker."""

    victim: Account
    attacker: Account
    draft_id: str
    draft_title: str


def methods() -> list[descriptor.MethodDescriptor]:
    """Every RPC of every service in the descriptor set the gateway loads."""
    found = []
    for file in descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTORS.read_bytes()).file:
        if file.name.startswith("vidmesh/") and file.service:
            module = importlib.import_module(file.name.removesuffix(".proto").replace("/", ".") + "_pb2")
            found += [m for s in module.DESCRIPTOR.services_by_name.values() for m in s.methods]
    return found


def http_rule(method: descriptor.MethodDescriptor) -> tuple[str, str] | None:
    """(verb, path template) of the RPC's REST binding, if it has one."""
    options = method.GetOptions()
    if not options.HasExtension(annotations_pb2.http):
        return None
    rule = options.Extensions[annotations_pb2.http]
    verb = rule.WhichOneof("pattern")
    return verb, getattr(rule, verb)


def is_read(method: descriptor.MethodDescriptor) -> bool:
    """A GET binding: its answer must not depend on who the caller pretends to be."""
    rule = http_rule(method)
    return rule is not None and rule[0] == "get"


def values(scene: Scene, method: descriptor.MethodDescriptor) -> dict[str, Any]:
    """What to send in each field: everything that can name a user names the victim."""
    return {
        "video_id": scene.draft_id,
        "user_id": scene.victim.user_id,
        "request_id": str(uuid.uuid4()),
        "q": scene.draft_title,
        "title": "Posted as whom?",
        "duration_seconds": 60,
        "body": "Said by whom?",
        "all": True,
        "email": scene.attacker.email if method.name == "Login" else f"{uuid.uuid4()}@example.test",
        "password": PASSWORD,
        "display_name": "Spoofer",
    }


def request(scene: Scene, method: descriptor.MethodDescriptor) -> message.Message:
    """A valid request of the RPC, aimed at the victim."""
    given = values(scene, method)
    fields = {}
    for field in method.input_type.fields:
        assert field.name in given or field.name in OPTIONAL, (
            f"{method.full_name}: say in tests/e2e/support/spoof.py what to send in `{field.name}`")
        if field.name in given:
            fields[field.name] = given[field.name]
    return message_factory.GetMessageClass(method.input_type)(**fields)


Call = Callable[[descriptor.MethodDescriptor, message.Message, dict[str, str]], Outcome]


def transports(gateway: Gateway, grpc_gateway: GatewayGrpc, scene: Scene) -> dict[str, Call]:
    """REST (for RPCs with a binding), gRPC and gRPC-web, each a call with extra headers."""
    return {
        "REST": lambda m, r, h: rest_call(gateway, m, r, h, smuggle=scene.victim.user_id),
        "gRPC": lambda m, r, h: grpc_gateway.call(m, r, list(h.items())),
        "gRPC-web": lambda m, r, h: grpc_web_call(gateway.http, m, r, list(h.items())),
    }


def rest_call(gateway: Gateway, method: descriptor.MethodDescriptor, sent: message.Message,
              headers: dict[str, str], smuggle: str) -> Outcome:
    """The RPC through its REST binding: path fields in the path, the others in the query
    (GET) or in a JSON body that also tries to pass `smuggle` as the caller's id."""
    rule = http_rule(method)
    assert rule is not None, method.full_name
    verb, template = rule
    fields = json_format.MessageToDict(sent, preserving_proto_field_name=True)
    in_path = re.findall(r"{(\w+)}", template)
    path = re.sub(r"{(\w+)}", lambda match: str(fields[match.group(1)]), template)
    others = {sent.DESCRIPTOR.fields_by_name[k].json_name: v for k, v in fields.items() if k not in in_path}
    if verb == "get":
        response = gateway.http.get(path, params=others, headers=headers)
    else:
        response = gateway.http.post(path, json={**dict.fromkeys(SMUGGLED, smuggle), **others}, headers=headers)
    answer = response.json() if response.content else None
    return Outcome(str(response.status_code), "" if response.status_code == 200 else response.text, answer)
