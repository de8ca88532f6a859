"""Which operations take a token, read from where the gateway decides it: the jwt_authn rules
of gateway/envoy.yaml (first match wins, as in Envoy). A rule without `requires` takes no
token (the auth routes), a required provider needs one, and `allow_missing` makes it optional
(a token, if sent, must be valid). The document states each operation's as OpenAPI security.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import yaml

from mesh.settings import load
from scripts import gateway

Security = list[dict[str, list[str]]]
NONE: Security = []  # no token is taken
OPTIONAL: Security = [{}, {"bearer": []}]
REQUIRED: Security = [{"bearer": []}]
PARAMETER = re.compile(r"\{[^}]+\}")


@cache
def _rules() -> list[dict[str, Any]]:
    config = yaml.safe_load(gateway.render(gateway.native_values(load(environ={}))))
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    jwt = next(f for f in manager["http_filters"] if f["name"] == "envoy.filters.http.jwt_authn")
    rules: list[dict[str, Any]] = jwt["typed_config"]["rules"]
    return rules


def _matches(match: dict[str, Any], path: str, verb: str) -> bool:
    if "path" in match and match["path"] != path:
        return False
    if "prefix" in match and not path.startswith(match["prefix"]):
        return False
    if "safe_regex" in match and not re.fullmatch(match["safe_regex"]["regex"], path):
        return False
    for header in match.get("headers", []):
        if header["name"] == ":method" and header["string_match"]["exact"] != verb.upper():
            return False
    return True


def security_of(path_template: str, verb: str) -> Security:
    """The OpenAPI security of an operation (`/api/web/v1/videos/{videoId}`, `get`)."""
    path = PARAMETER.sub("x", path_template)  # a path the template stands for
    for rule in _rules():
        if _matches(rule["match"], path, verb):
            requires = rule.get("requires")
            if requires is None:
                return NONE
            allows_missing = any("allow_missing" in r for r in requires.get("requires_any", {}).get("requirements", []))
            return OPTIONAL if allows_missing else REQUIRED
    raise ValueError(f"no jwt_authn rule of the gateway matches {verb.upper()} {path_template}")
