"""The OpenAPI document `make codegen` writes: valid OpenAPI 3, one operation per
google.api.http rule and no other, JSON field names, the protovalidate rules as schema
keywords, and the one error body."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from buf.validate import validate_pb2
from google.api import annotations_pb2
from openapi_spec_validator import validate

from mesh.settings import ROOT
from scripts.openapi import descriptors, rules
from scripts.openapi.build import DOCUMENT

Json = dict[str, Any]
WEB = "vidmesh.webbff.v1"


@cache
def document() -> Json:
    if not DOCUMENT.exists():
        pytest.fail(f"{DOCUMENT} is missing: run `make codegen` first")
    loaded: Json = json.loads(DOCUMENT.read_text())
    return loaded


@cache
def routes() -> list[descriptors.Route]:
    return descriptors.routes(descriptors.load_services(ROOT / "gen" / "python"))


def schema(name: str) -> Json:
    found: Json = document()["components"]["schemas"][name]
    return found


def operation(verb: str, path: str) -> Json:
    found: Json = document()["paths"][path][verb]
    return found


def test_document_is_valid_openapi_3() -> None:
    assert document()["openapi"].startswith("3.")
    validate(document())  # raises on the first error


def test_every_http_rule_is_an_operation_and_nothing_else_is() -> None:
    annotated = [m for s in descriptors.load_services(ROOT / "gen" / "python") for m in s.methods
                 if m.GetOptions().HasExtension(annotations_pb2.http)]
    assert len(routes()) >= len(annotated) > 20
    expected = {(route.verb, route.path) for route in routes()}
    documented = {(verb, path) for path, item in document()["paths"].items() for verb in item if verb != "parameters"}
    assert documented == expected
    assert ("get", "/api/web/v1/videos/{videoId}/comments") in documented


def test_operations_are_named_after_their_rpcs() -> None:
    for route in routes():
        op = operation(route.verb, route.path)
        assert op["operationId"] == f"{route.method.containing_service.name}_{route.method.name}"


def test_property_names_are_the_fields_json_names() -> None:
    pool_names = {route.method.output_type.full_name for route in routes()}
    for name in pool_names:
        message = next(r.method.output_type for r in routes() if r.method.output_type.full_name == name)
        assert set(schema(name).get("properties", {})) == {f.json_name for f in message.fields}, name
    assert "viewCount" in schema(f"{WEB}.VideoCard")["properties"]


def test_body_and_parameters_carry_the_validation_rules() -> None:
    create = schema(f"{WEB}.CreateVideoRequest")
    assert create["required"] == ["title"]
    assert (create["properties"]["title"]["minLength"], create["properties"]["title"]["maxLength"]) == (1, 200)
    assert create["properties"]["durationSeconds"].items() >= {"minimum": 1, "maximum": 86400}.items()
    tags = create["properties"]["tags"]
    assert (tags["maxItems"], tags["uniqueItems"], tags["items"]) == (10, True, {"type": "string", "minLength": 1,
                                                                                  "maxLength": 32})
    # Optional UUIDs: empty, or a UUID.
    assert create["properties"]["requestId"]["anyOf"] == [{"enum": [""]}, {"format": "uuid"}]
    q = next(p for p in operation("get", "/api/web/v1/search")["parameters"] if p["name"] == "q")
    assert q["required"] is True and q["schema"].items() >= {"minLength": 1, "maxLength": 200}.items()
    video_id = operation("post", "/api/web/v1/videos/{videoId}:publish")["parameters"][0]
    assert (video_id["name"], video_id["schema"]["format"]) == ("videoId", "uuid")


def test_rules_json_schema_cannot_say_are_in_the_description() -> None:
    assert "set exactly one of notification_ids or all" in schema(f"{WEB}.MarkNotificationsReadRequest")["description"]
    min_version = next(p for p in operation("get", "/api/web/v1/videos/{videoId}")["parameters"]
                       if p["name"] == "minVersion")
    assert "int64.gte: 0" in min_version["description"]  # a JSON string: no minimum keyword


def test_response_fields_the_gateway_always_prints_are_required() -> None:
    card = schema(f"{WEB}.VideoCard")
    assert {"videoId", "viewCount", "tags", "published"} <= set(card["required"])
    assert not {"createTime", "publishTime"} & set(card["required"])  # unset messages are left out
    assert "uploader" not in schema(f"{WEB}.GetVideoPageResponse")["required"]  # degraded: absent


def test_every_operation_documents_the_error_body() -> None:
    status_ref = {"$ref": "#/components/schemas/google.rpc.Status"}
    for route in routes():
        responses = operation(route.verb, route.path)["responses"]
        for code in ("default", "429"):
            assert responses[code]["content"]["application/json"]["schema"] == status_ref, route.path
    publish = operation("post", "/api/web/v1/videos/{videoId}:publish")
    assert {"400", "401", "403", "404", "409"} <= set(publish["responses"])
    assert publish["security"] == [{"bearer": []}]
    violation = schema("google.rpc.BadRequest.FieldViolation")["properties"]
    assert {"field", "description"} <= set(violation)
    assert schema("google.rpc.Status")["required"] == ["code", "message"]


def test_security_is_what_the_gateways_jwt_rules_say() -> None:
    # Login answers UNAUTHENTICATED for a wrong password: that is no reason to ask for a token.
    for verb, path in (("post", "/api/auth/v1/login"), ("post", "/api/auth/v1/register"),
                       ("get", "/.well-known/jwks.json")):
        assert operation(verb, path)["security"] == [], path
    assert operation("get", "/api/web/v1/notifications")["security"] == [{"bearer": []}]
    assert operation("get", "/api/web/v1/videos/{videoId}")["security"] == [{}, {"bearer": []}]
    assert operation("post", "/api/web/v1/videos/{videoId}/views")["security"] == [{}, {"bearer": []}]


def test_translate_maps_each_kind_of_rule() -> None:
    uuid_or_empty = validate_pb2.FieldRules(string=validate_pb2.StringRules(uuid=True),
                                            ignore=validate_pb2.IGNORE_IF_ZERO_VALUE)
    assert rules.translate(uuid_or_empty, "").keywords == {"anyOf": [{"enum": [""]}, {"format": "uuid"}]}
    above = rules.translate(validate_pb2.FieldRules(int32=validate_pb2.Int32Rules(gt=0, lt=10), required=True))
    assert above.keywords == {"minimum": 0, "exclusiveMinimum": True, "maximum": 10, "exclusiveMaximum": True}
    assert above.required
    items = validate_pb2.FieldRules(repeated=validate_pb2.RepeatedRules(
        min_items=1, items=validate_pb2.FieldRules(string=validate_pb2.StringRules(email=True))))
    assert rules.translate(items).keywords == {"minItems": 1, "items": {"format": "email"}}
    prefixed = rules.translate(validate_pb2.FieldRules(string=validate_pb2.StringRules(prefix="vm-")))
    assert (prefixed.keywords, prefixed.described) == ({}, ["string.prefix: vm-"])
