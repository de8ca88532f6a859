"""The contracts keep their promises: checked on the descriptors `make protos` generates.

Run after `make protos`, with gen/python and the repository root on sys.path.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor, descriptor_pb2, json_format

ROOT = Path(__file__).resolve().parents[2]
GEN = ROOT / "gen"
U1, U2 = "0b6a0c53-8f7a-4b57-9a55-6c7c0b0f6a11", "5d1e1c77-2a3b-4c5d-8e9f-a0b1c2d3e4f5"
ACTOR = {"request_id": U1, "actor_id": U2}
ACCOUNT = {"email": "a@b.io", "password": "12345678", "display_name": "Ada"}
GRPC_CODES = (
    "INVALID_ARGUMENT",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "UNAUTHENTICATED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "RESOURCE_EXHAUSTED",
    "UNAVAILABLE",
    "DEADLINE_EXCEEDED",
)
# An RPC's verb says whether it changes state; an RPC with a new verb must be added here.
MUTATING_VERBS = (
    "Create",
    "Update",
    "Publish",
    "Delete",
    "Like",
    "Unlike",
    "Record",
    "Add",
    "Follow",
    "Unfollow",
    "Mark",
    "Register",
)
READING_VERBS = ("Get", "BatchGet", "List", "Search", "Trending", "UnreadCount", "Login")
# The REST surface the gateway serves: (RPC, verb, path, body). Part of the contract.
REST = {
    ("vidmesh.users.v1.UserService.Register", "post", "/api/auth/v1/register", "*"),
    ("vidmesh.users.v1.UserService.Login", "post", "/api/auth/v1/login", "*"),
    ("vidmesh.users.v1.UserService.GetJwks", "get", "/.well-known/jwks.json", ""),
    ("vidmesh.webbff.v1.WebBffService.GetHome", "get", "/api/web/v1/home", ""),
    ("vidmesh.webbff.v1.WebBffService.GetVideoPage", "get", "/api/web/v1/videos/{video_id}", ""),
    ("vidmesh.webbff.v1.WebBffService.SearchVideos", "get", "/api/web/v1/search", ""),
    ("vidmesh.webbff.v1.WebBffService.GetChannel", "get", "/api/web/v1/channels/{user_id}", ""),
    ("vidmesh.webbff.v1.WebBffService.ListComments", "get", "/api/web/v1/videos/{video_id}/comments", ""),
    ("vidmesh.webbff.v1.WebBffService.CreateVideo", "post", "/api/web/v1/videos", "*"),
    ("vidmesh.webbff.v1.WebBffService.PublishVideo", "post", "/api/web/v1/videos/{video_id}:publish", "*"),
    ("vidmesh.webbff.v1.WebBffService.LikeVideo", "post", "/api/web/v1/videos/{video_id}:like", "*"),
    ("vidmesh.webbff.v1.WebBffService.UnlikeVideo", "post", "/api/web/v1/videos/{video_id}:unlike", "*"),
    ("vidmesh.webbff.v1.WebBffService.AddComment", "post", "/api/web/v1/videos/{video_id}/comments", "*"),
    ("vidmesh.webbff.v1.WebBffService.RecordView", "post", "/api/web/v1/videos/{video_id}/views", "*"),
    ("vidmesh.webbff.v1.WebBffService.FollowChannel", "post", "/api/web/v1/channels/{user_id}:follow", "*"),
    ("vidmesh.webbff.v1.WebBffService.UnfollowChannel", "post", "/api/web/v1/channels/{user_id}:unfollow", "*"),
    ("vidmesh.webbff.v1.WebBffService.ListNotifications", "get", "/api/web/v1/notifications", ""),
    ("vidmesh.webbff.v1.WebBffService.MarkNotificationsRead", "post", "/api/web/v1/notifications:markRead", "*"),
    ("vidmesh.mobilebff.v1.MobileBffService.GetFeed", "get", "/api/mobile/v1/feed", ""),
    ("vidmesh.mobilebff.v1.MobileBffService.GetVideo", "get", "/api/mobile/v1/videos/{video_id}", ""),
    ("vidmesh.mobilebff.v1.MobileBffService.ListNotifications", "get", "/api/mobile/v1/notifications", ""),
    ("vidmesh.mobilebff.v1.MobileBffService.LikeVideo", "post", "/api/mobile/v1/videos/{video_id}:like", "*"),
}
# Query parameters the contract names (path parameters are checked for every binding).
QUERY_PARAMS = {"/api/web/v1/search": {"q"}, "/api/mobile/v1/feed": {"page_size", "page_token"}}
# Reads of one video aggregate, which accept min_version to read the client's own writes.
SINGLE_AGGREGATE_READS = (
    "vidmesh.video.v1.VideoQueryService.GetVideo",
    "vidmesh.video.v1.VideoQueryService.ListComments",
    "vidmesh.webbff.v1.WebBffService.GetVideoPage",
    "vidmesh.mobilebff.v1.MobileBffService.GetVideo",
)


def read_set(name: str) -> descriptor_pb2.FileDescriptorSet:
    path = GEN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make protos` first")
    return descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())


@cache
def own_files() -> tuple[descriptor_pb2.FileDescriptorProto, ...]:
    """Our files from gen/image.binpb, with their comments (source info)."""
    return tuple(f for f in read_set("image.binpb").file if f.name.startswith("vidmesh/"))


def module(proto_name: str) -> ModuleType:
    return importlib.import_module(proto_name.removesuffix(".proto").replace("/", ".") + "_pb2")


def methods() -> list[descriptor.MethodDescriptor]:
    found = [m for f in own_files() for s in module(f.name).DESCRIPTOR.services_by_name.values() for m in s.methods]
    assert len(found) > 40, "expected every service's RPCs"
    return found


def validate_rules(field: descriptor.FieldDescriptor) -> Any:  # buf.validate.FieldRules
    validate_pb2 = importlib.import_module("buf.validate.validate_pb2")
    return field.GetOptions().Extensions[validate_pb2.field]


def http_rule(method: descriptor.MethodDescriptor) -> tuple[str, str, str] | None:
    options = method.GetOptions()
    if not options.HasExtension(annotations_pb2.http):
        return None
    rule = options.Extensions[annotations_pb2.http]
    verb = rule.WhichOneof("pattern")
    return verb, getattr(rule, verb), rule.body


def comments(file: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    return {tuple(loc.path): loc.leading_comments.strip() for loc in file.source_code_info.location}


def is_mutating(method: descriptor.MethodDescriptor) -> bool:
    verbs = sorted(MUTATING_VERBS + READING_VERBS, key=len, reverse=True)
    verb = next((v for v in verbs if method.name.startswith(v)), None)
    assert verb is not None, f"{method.full_name}: add its verb to MUTATING_VERBS or READING_VERBS"
    return verb in MUTATING_VERBS


def writes_a_video(method: descriptor.MethodDescriptor) -> bool:
    return "video_id" in method.input_type.fields_by_name or method.name == "CreateVideo"


def test_every_rpc_comment_names_its_grpc_error_codes() -> None:
    for file in own_files():
        notes = comments(file)
        for s, service in enumerate(file.service):
            for m, rpc in enumerate(service.method):
                text = notes.get((6, s, 2, m), "")
                assert "Errors:" in text and any(code in text for code in GRPC_CODES), f"{service.name}.{rpc.name}"


def test_every_service_rpc_message_field_and_enum_value_has_a_comment() -> None:
    for file in own_files():
        notes = comments(file)
        paths: list[tuple[int, ...]] = [(4, i) for i in range(len(file.message_type))]
        paths += [(4, i, 2, j) for i, msg in enumerate(file.message_type) for j in range(len(msg.field))]
        paths += [(5, i) for i in range(len(file.enum_type))]
        paths += [(5, i, 2, j) for i, enum in enumerate(file.enum_type) for j in range(len(enum.value))]
        paths += [(6, i) for i in range(len(file.service))]
        missing = [p for p in paths if not notes.get(p)]
        assert not missing, f"{file.name}: elements without a leading comment at {missing}"


def test_services_and_messages_follow_the_buf_style_guide() -> None:
    for method in methods():
        assert method.containing_service.name.endswith("Service")
        assert method.input_type.name == f"{method.name}Request", method.full_name
        assert method.output_type.name == f"{method.name}Response", method.full_name
    for file in own_files():
        for enum in file.enum_type:
            assert enum.value[0].number == 0 and enum.value[0].name.endswith("_UNSPECIFIED"), enum.name


def test_every_mutating_rpc_takes_a_uuid_request_id() -> None:
    mutating = [m for m in methods() if is_mutating(m)]
    assert len(mutating) >= 20
    for method in mutating:
        field = method.input_type.fields_by_name.get("request_id")
        assert field is not None and field.type == field.TYPE_STRING, method.full_name
        rules = validate_rules(field)
        assert rules.string.uuid, f"{method.full_name}: request_id must be a UUID"
        # Only the public REST routes may leave it out (the BFF then makes one).
        assert rules.required or http_rule(method), f"{method.full_name}: request_id must be required"


def test_every_video_command_returns_the_new_version() -> None:
    writes = [m for m in methods() if is_mutating(m) and writes_a_video(m)]
    commands = [m for m in methods() if m.containing_service.name == "VideoCommandService"]
    assert len(commands) == 8 and len(writes) >= 10
    for method in {*commands, *writes}:
        version = method.output_type.fields_by_name.get("version")
        assert version is not None and version.type == version.TYPE_INT64, method.full_name


def test_single_aggregate_reads_accept_min_version() -> None:
    by_name = {m.full_name: m for m in methods()}
    for name in SINGLE_AGGREGATE_READS:
        field = by_name[name].input_type.fields_by_name.get("min_version")
        assert field is not None and field.type == field.TYPE_INT64, name
        assert validate_rules(field).int64.gte == 0, name


def test_list_rpcs_page_with_size_token_and_next_token() -> None:
    listing = [m for m in methods() if re.match(r"(List|Search|Trending|GetFeed)", m.name)]
    assert len(listing) >= 10
    for method in listing:
        fields, out = method.input_type.fields_by_name, method.output_type.fields_by_name
        assert {"page_size", "page_token"} <= set(fields) and "next_page_token" in out, method.full_name
        assert validate_rules(fields["page_size"]).int32.lte == 100, method.full_name


def test_rest_bindings_are_exactly_the_declared_routes() -> None:
    declared = {(m.full_name, *rule) for m in methods() if (rule := http_rule(m))}
    assert declared == REST


def test_rest_path_and_query_parameters_bind_to_request_fields() -> None:
    for method in methods():
        if rule := http_rule(method):
            names = set(re.findall(r"{(\w+)}", rule[1])) | QUERY_PARAMS.get(rule[1], set())
            assert names <= set(method.input_type.fields_by_name), method.full_name


def test_transcoder_descriptor_set_carries_rich_error_protos() -> None:
    names = {f.name for f in read_set("vidmesh.binpb").file}
    assert {
        "google/rpc/status.proto",
        "google/rpc/error_details.proto",
        "google/api/annotations.proto",
        "buf/validate/validate.proto",
    } <= names
    assert {f.name for f in own_files()} <= names


def test_too_long_title_is_rejected_naming_the_field() -> None:
    import protovalidate

    commands = module("vidmesh/video/v1/video_command_service.proto")
    request = commands.CreateVideoRequest(request_id=U1, actor_id=U2, title="t" * 201, duration_seconds=60)
    with pytest.raises(protovalidate.ValidationError) as raised:
        protovalidate.validate(request)
    [violation] = raised.value.violations
    assert violation.proto.field is not None
    assert [e.field_name for e in violation.proto.field.elements] == ["title"]
    assert violation.proto.rule_id == "string.max_len"
    request.title = "t" * 200
    protovalidate.validate(request)


@pytest.mark.parametrize(
    ("proto", "message", "fields", "rule_id"),
    [
        ("users/v1/users_service", "RegisterRequest", {**ACCOUNT, "email": "nope"}, "string.email"),
        ("users/v1/users_service", "RegisterRequest", {**ACCOUNT, "password": "short"}, "string.min_len"),
        ("video/v1/video_query_service", "TrendingRequest", {"page_size": 101}, "int32.gte_lte"),
        (
            "video/v1/video_command_service",
            "CreateVideoRequest",
            {**ACTOR, "title": "t", "duration_seconds": 1, "tags": [str(i) for i in range(11)]},
            "repeated.max_items",
        ),
        (
            "video/v1/video_command_service",
            "AddCommentRequest",
            {**ACTOR, "video_id": "x", "body": "hi"},
            "string.uuid",
        ),
        (
            "notification/v1/notification_service",
            "MarkReadRequest",
            {"request_id": U1, "user_id": U2},
            "mark_read.ids_xor_all",
        ),
    ],
)
def test_domain_rules_are_declared_in_the_protos(
    proto: str, message: str, fields: dict[str, Any], rule_id: str
) -> None:
    import protovalidate

    request = getattr(module(f"vidmesh/{proto}.proto"), message)(**fields)
    assert rule_id in [v.proto.rule_id for v in protovalidate.collect_violations(request)]


def test_jwks_transcodes_to_the_standard_json_shape() -> None:
    users = module("vidmesh/users/v1/users_service.proto")
    key = users.JsonWebKey(kty="RSA", kid="k1", use="sig", alg="RS256", n="0vx7", e="AQAB")
    assert json_format.MessageToDict(users.GetJwksResponse(keys=[key])) == {
        "keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": "0vx7", "e": "AQAB"}]
    }


def test_an_ec_key_carries_only_ec_parameters_when_every_field_is_printed() -> None:
    # The gateway prints fields without presence even when empty (always_print_primitive_fields);
    # RFC 7518 section 6.2 gives an EC key crv, x and y, and no RSA n or e.
    users = module("vidmesh/users/v1/users_service.proto")
    key = users.JsonWebKey(kty="EC", kid="k1", use="sig", alg="ES256", crv="P-256", x="f83O", y="x_FE")
    printed = json_format.MessageToDict(key, always_print_fields_with_no_presence=True)
    assert printed == {"kty": "EC", "kid": "k1", "use": "sig", "alg": "ES256", "crv": "P-256", "x": "f83O", "y": "x_FE"}


def test_video_events_carry_video_owner_and_version() -> None:
    events = module("vidmesh/video/v1/events.proto").DESCRIPTOR.message_types_by_name
    assert set(events) == {
        "VideoCreated",
        "VideoUpdated",
        "VideoPublished",
        "VideoDeleted",
        "VideoLiked",
        "VideoUnliked",
        "VideoViewed",
        "CommentAdded",
    }
    for event in events.values():
        assert {"video_id", "owner_id", "version"} <= set(event.fields_by_name), event.name


def test_event_envelope_wraps_a_payload_with_cloudevents_attributes() -> None:
    import protovalidate

    envelope_pb2 = module("vidmesh/events/v1/envelope.proto")
    users_events = module("vidmesh/users/v1/events.proto")
    envelope = envelope_pb2.EventEnvelope(
        id=U1,
        source="/vidmesh/users",
        type="vidmesh.users.v1.UserRegistered",
        subject=f"users/{U2}",
        spec_version="1.0",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        aggregate_id=U2,
        data_content_type="application/protobuf",
    )
    envelope.time.GetCurrentTime()
    envelope.data.Pack(users_events.UserRegistered(user_id=U2, email="a@b.io", display_name="Ada"))
    protovalidate.validate(envelope)
    assert envelope.data.TypeName() == envelope.type
