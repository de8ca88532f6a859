"""The OpenAPI document the gateway serves, held to what the gateway really does: it is
the document `make codegen` wrote, valid OpenAPI 3, and real transcoded answers (pages,
writes, the error body) have exactly its field names and required fields."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import validate

from scripts.openapi.build import DOCUMENT
from tests.e2e.conftest import World
from tests.e2e.support.openapi import Contract
from tests.e2e.support.rest import Gateway, body, new_id, ok
from tests.e2e.support.waiting import eventually


@pytest.fixture(scope="module")
def contract(gateway: Gateway) -> Contract:
    served = ok(gateway.get("/api/openapi.json"))
    assert served == json.loads(DOCUMENT.read_text()), "the gateway serves another document than make codegen wrote"
    validate(served)
    return Contract(served)


def conforms(contract: Contract, answer: Any, verb: str, path: str, status: str = "200") -> None:
    schema = contract.response_schema(verb, path, status)
    assert contract.problems(answer, schema) == [], f"{verb.upper()} {path} {status} against {schema}: {answer}"


def test_reads_have_the_documented_fields(gateway: Gateway, world: World, contract: Contract) -> None:
    viewer, video = world.viewer, world.video_id
    conforms(contract, ok(gateway.get("/api/web/v1/home", viewer)), "get", "/api/web/v1/home")
    page = ok(gateway.get(f"/api/web/v1/videos/{video}", viewer, minVersion=str(world.version)))
    assert page["video"]["card"]["viewCount"].isdigit()  # int64 as a string, as documented
    conforms(contract, page, "get", "/api/web/v1/videos/{videoId}")
    conforms(contract, ok(gateway.get(f"/api/web/v1/channels/{world.owner.user_id}", viewer)),
             "get", "/api/web/v1/channels/{userId}")
    conforms(contract, ok(gateway.get("/api/web/v1/search", q=world.title)), "get", "/api/web/v1/search")
    conforms(contract, ok(gateway.get("/api/web/v1/notifications", viewer)), "get", "/api/web/v1/notifications")
    conforms(contract, ok(gateway.get(f"/api/mobile/v1/videos/{video}")), "get", "/api/mobile/v1/videos/{videoId}")
    conforms(contract, ok(gateway.get("/.well-known/jwks.json")), "get", "/.well-known/jwks.json")


def test_writes_and_comment_pages_have_the_documented_fields(gateway: Gateway, world: World,
                                                              contract: Contract) -> None:
    path = f"/api/web/v1/videos/{world.video_id}"
    added = ok(gateway.post(f"{path}/comments", {"requestId": new_id(), "body": "Fields check"}, world.viewer))
    conforms(contract, added, "post", "/api/web/v1/videos/{videoId}/comments")
    conforms(contract, ok(gateway.post(f"{path}:like", {"requestId": new_id()}, world.viewer)),
             "post", "/api/web/v1/videos/{videoId}:like")
    conforms(contract, ok(gateway.post(f"{path}/views", {"requestId": new_id()})),
             "post", "/api/web/v1/videos/{videoId}/views")
    def first_comment() -> dict[str, Any] | None:
        page = ok(gateway.get(f"{path}/comments", pageSize=1))
        return page if page["comments"] else None

    # The comment page reads the projection, which trails the write a moment.
    comments = eventually(first_comment, "the added comment in the comments page")
    assert len(comments["comments"]) == 1
    conforms(contract, comments, "get", "/api/web/v1/videos/{videoId}/comments")


def test_the_error_body_is_the_documented_status(gateway: Gateway, world: World, contract: Contract) -> None:
    invalid = gateway.post("/api/web/v1/videos", {"title": "", "durationSeconds": 0}, world.owner)
    assert invalid.status_code == 400
    error = body(invalid)
    conforms(contract, error, "post", "/api/web/v1/videos", "400")
    violations = [v for d in error["details"] if d["@type"].endswith("google.rpc.BadRequest")
                  for v in d["fieldViolations"]]
    assert {v["field"] for v in violations} == {"title", "duration_seconds"}  # proto names, as documented
    missing = gateway.get("/api/web/v1/videos/6d1c1d36-5d43-4e0f-9a39-2a4f7e9f3b11")
    assert missing.status_code == 404
    conforms(contract, body(missing), "get", "/api/web/v1/videos/{videoId}", "404")


def test_a_renamed_field_would_be_caught(contract: Contract, gateway: Gateway, world: World) -> None:
    # The check itself can fail: the same answer with one snake_case name does not conform.
    page = ok(gateway.get(f"/api/web/v1/videos/{world.video_id}"))
    page["video"]["card"]["view_count"] = page["video"]["card"].pop("viewCount")
    problems = contract.problems(page, "vidmesh.webbff.v1.GetVideoPageResponse")
    assert any("view_count" in problem for problem in problems), problems
    assert any("viewCount" in problem for problem in problems), problems  # and the required one is missing


def test_each_operation_takes_a_token_as_the_document_says(gateway: Gateway, contract: Contract) -> None:
    # Schemathesis reads `security` to decide what must be refused without a token: the
    # document must say what the gateway's jwt_authn rules do, login and register included.
    wrong = []
    for path, operations in contract.document["paths"].items():
        for verb, operation in operations.items():
            url = path.replace("{videoId}", new_id()).replace("{userId}", new_id())
            security = operation.get("security", contract.document.get("security"))
            for token, refused in ((None, security == [{"bearer": []}]), ("not-a-jwt", security != [])):
                headers = {"authorization": f"Bearer {token}"} if token else {}
                answer = gateway.http.request(verb, url, headers=headers, json={} if verb == "post" else None)
                if (answer.status_code == 401) != refused:
                    wrong.append(f"{verb.upper()} {path} {'with a bad' if token else 'without a'} token: "
                                 f"{answer.status_code}, documented security {security}")
    assert not wrong, "\n".join(wrong)
