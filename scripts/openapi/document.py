"""What the generated document does not know, added from the descriptors and the gateway's
behaviour: validation rules, which response fields are always present, the error body and
its per-status responses, authentication, and an introduction.

Every edit works on the OpenAPI 3.0 document that swagger2openapi made of
protoc-gen-openapiv2's output, whose schemas carry fully qualified proto names
(`openapi_naming_strategy=fqn`), so each maps back to its message without guessing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.rpc import error_details_pb2

from scripts.openapi import rules
from scripts.openapi.descriptors import Route, field_by_json_path, reachable
from scripts.openapi.security import security_of

Json = dict[str, Any]
INTRO = Path(__file__).with_name("intro.md")
STATUS, BAD_REQUEST = "google.rpc.Status", "google.rpc.BadRequest"
# The transcoder maps gRPC codes to HTTP as grpc-gateway does (convert_grpc_status).
HTTP_OF_CODE = {
    "INVALID_ARGUMENT": 400, "FAILED_PRECONDITION": 400, "OUT_OF_RANGE": 400, "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403, "NOT_FOUND": 404, "ALREADY_EXISTS": 409, "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429, "UNIMPLEMENTED": 501, "UNAVAILABLE": 503, "DEADLINE_EXCEEDED": 504,
}
ERRORS_SENTENCE = re.compile(r"Errors:(.*)", re.S)
CODE_WORD = re.compile(r"\b(" + "|".join(HTTP_OF_CODE) + r")\b")


def _schemas(doc: Json) -> Json:
    schemas: Json = doc["components"]["schemas"]
    return schemas


def _operations(doc: Json, routes: list[Route]) -> list[tuple[Route, Json]]:
    found = []
    for route in routes:
        operation = doc["paths"].get(route.path, {}).get(route.verb)
        if operation is None:
            named = f"{route.verb.upper()} {route.path} ({route.method.full_name})"
            raise ValueError(f"the generated document has no {named}")
        found.append((route, operation))
    return found


def _describe(target: Json, sentences: list[str]) -> None:
    if sentences:
        extra = "Rules: " + "; ".join(sentences) + "."
        target["description"] = f"{target['description']}\n\n{extra}" if target.get("description") else extra


def _apply(target: Json, schema: Json, descriptor: FieldDescriptor) -> bool:
    """Add `descriptor`'s rules to its schema (and description to `target`); True if required."""
    found = rules.field_rules(descriptor)
    if found is None:
        return False
    translation = rules.translate(found, rules.zero_value(descriptor))
    for keyword, value in translation.keywords.items():
        if keyword == "items":  # keep the item type the generator wrote
            schema.setdefault("items", {}).update(value)
        else:
            schema[keyword] = value
    _describe(target, translation.described)
    return translation.required


def _message_of(name: str, bodies: dict[str, Descriptor]) -> Descriptor | None:
    if name in bodies:
        return bodies[name]
    try:
        return descriptor_pool.Default().FindMessageTypeByName(name)
    except KeyError:  # an enum
        return None


def add_rules(doc: Json, routes: list[Route]) -> None:
    """protovalidate rules onto every schema property and every query or path parameter."""
    # With body "*" and path variables, the generator makes a `<Service>.<Method>Body` schema.
    bodies = {f"{r.method.containing_service.full_name}.{r.method.name}Body": r.method.input_type for r in routes}
    for name, schema in _schemas(doc).items():
        message = _message_of(name, bodies)
        if message is None:
            continue
        _describe(schema, rules.message_rules(message))
        for prop, prop_schema in schema.get("properties", {}).items():
            field = next((f for f in message.fields if f.json_name == prop), None)  # None: Any's "@type"
            if field is not None and _apply(prop_schema, prop_schema, field):
                schema.setdefault("required", []).append(prop)
    for route, operation in _operations(doc, routes):
        for parameter in operation.get("parameters", []):
            field = field_by_json_path(route.method.input_type, parameter["name"])
            if field is not None and _apply(parameter, parameter["schema"], field):
                parameter["required"] = True


def require_printed_fields(doc: Json, routes: list[Route]) -> None:
    """Mark the response fields the gateway always prints as required.

    gateway/envoy.yaml prints with always_print_primitive_fields, so scalars, enums, lists
    and maps appear even at their zero value; only an unset message (or oneof member) is left
    out. Messages that requests also use are left alone.
    """
    outputs = reachable([r.method.output_type for r in routes]) - reachable([r.method.input_type for r in routes])
    pool = descriptor_pool.Default()
    for name in sorted(outputs & set(_schemas(doc))):
        message = pool.FindMessageTypeByName(name)
        always = [f.json_name for f in message.fields
                  if (f.message_type is None or f.is_repeated) and f.containing_oneof is None]
        if always:
            _schemas(doc)[name]["required"] = always


def _message_schema(message: Descriptor, schemas: Json) -> Json:
    """A schema for one of google.rpc's error detail messages, from its descriptor."""
    properties: Json = {}
    for field in message.fields:
        if field.message_type is not None:
            _message_schema_named(field.message_type, schemas)
            item: Json = {"$ref": f"#/components/schemas/{field.message_type.full_name}"}
        else:
            item = {"type": "integer" if field.cpp_type == FieldDescriptor.CPPTYPE_INT32 else "string"}
        properties[field.json_name] = {"type": "array", "items": item} if field.is_repeated else item
    return {"type": "object", "properties": properties}


def _message_schema_named(message: Descriptor, schemas: Json) -> None:
    schemas.setdefault(message.full_name, _message_schema(message, schemas))


def document_errors(doc: Json, routes: list[Route]) -> None:
    """The one error body (google.rpc.Status), BadRequest as a detail, and for each
    operation the statuses its RPC comment names ("Errors: NOT_FOUND if ...")."""
    schemas = _schemas(doc)
    bad_request = cast(Descriptor, error_details_pb2.BadRequest.DESCRIPTOR)  # upb's type is the same class
    _message_schema_named(bad_request, schemas)
    schemas[BAD_REQUEST]["properties"] = {"@type": {"type": "string", "enum": [f"type.googleapis.com/{BAD_REQUEST}"]},
                                          **schemas[BAD_REQUEST]["properties"]}
    status = schemas[STATUS]
    status["required"] = ["code", "message"]
    status["properties"]["code"]["description"] = "The gRPC status code (3 INVALID_ARGUMENT, 5 NOT_FOUND, ...)."
    status["properties"]["details"]["items"] = {"anyOf": [{"$ref": f"#/components/schemas/{BAD_REQUEST}"},
                                                          {"$ref": "#/components/schemas/google.protobuf.Any"}]}
    ref = {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{STATUS}"}}}}
    for route, operation in _operations(doc, routes):
        text = " ".join(operation.get(key, "") for key in ("summary", "description"))
        sentence = ERRORS_SENTENCE.search(text)
        # Every route may be rate limited by the gateway.
        codes = sorted(set(CODE_WORD.findall(sentence.group(1) if sentence else "")) | {"RESOURCE_EXHAUSTED"})
        responses = {"200": operation["responses"]["200"]}
        for http in sorted({HTTP_OF_CODE[code] for code in codes}):
            named = " or ".join(code for code in codes if HTTP_OF_CODE[code] == http)
            responses[str(http)] = {"description": named, **ref}
        responses["default"] = {"description": "Any other error, in the same shape.", **ref}
        operation["responses"] = responses
        operation["security"] = security_of(route.path, route.verb)


def drop_unexposed_tags(doc: Json, routes: list[Route]) -> None:
    """The generator tags every service; keep those the gateway serves routes of."""
    exposed = {route.method.containing_service.name for route in routes}
    doc["tags"] = [tag for tag in doc.get("tags", []) if tag["name"] in exposed]


def introduce(doc: Json, version: str) -> None:
    """Title, introduction, the same-origin server and the bearer token scheme."""
    doc["info"] = {"title": "vidmesh REST API", "version": version, "description": INTRO.read_text()}
    doc["servers"] = [{"url": "/", "description": "the gateway that serves this document"}]
    doc["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                   "description": "The accessToken of POST /api/auth/v1/login."}}
    # Routes that do not need a token still read it when one is sent (the viewer's state).
    doc["security"] = [{}, {"bearer": []}]
