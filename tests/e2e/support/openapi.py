"""Check a real answer of the gateway against the OpenAPI document it serves.

Strict on names: every object in the schema is closed (additionalProperties: false), so a
field the transcoder prints under another name than the document says (snake_case, say)
fails, and so does a required field it left out.
"""

from __future__ import annotations

import copy
from typing import Any

from jsonschema import Draft4Validator

Json = dict[str, Any]
ANY = "google.protobuf.Any"  # carries "@type" plus the fields of whatever it packs


def _closed(node: Any) -> Any:
    if isinstance(node, dict):
        closed = {key: _closed(value) for key, value in node.items()}
        if "properties" in node and "additionalProperties" not in node:
            closed["additionalProperties"] = False
        return closed
    if isinstance(node, list):
        return [_closed(item) for item in node]
    return node


class Contract:
    """The component schemas of one document, closed, as JSON Schema validators."""

    def __init__(self, document: Json) -> None:
        schemas = copy.deepcopy(document["components"]["schemas"])
        self.document = document
        self.components = {name: (schema if name == ANY else _closed(schema)) for name, schema in schemas.items()}

    def response_schema(self, verb: str, path: str, status: str = "200") -> str:
        """The schema name an operation documents for `status`."""
        response = self.document["paths"][path][verb]["responses"][status]
        ref: str = response["content"]["application/json"]["schema"]["$ref"]
        return ref.rsplit("/", 1)[1]

    def problems(self, answer: Any, schema: str) -> list[str]:
        """Every way `answer` differs from the named schema (empty when it conforms)."""
        root = {"components": {"schemas": self.components}, "$ref": f"#/components/schemas/{schema}"}
        validator = Draft4Validator(root)
        return [f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
                for error in validator.iter_errors(answer)]
