"""Step 4, Backends for Frontends: one video, shaped for a web page and for a phone."""

from __future__ import annotations

import json

from scripts.demo import show
from scripts.demo.calls import expect
from scripts.demo.world import Demo

WHY = """The web page wants the video with its uploader, comments, related videos and the
viewer's state in one answer; the phone wants a small card. web-bff and mobile-bff each
fan out to the domain services and return what their client draws, so neither client makes
five calls or downloads what it does not show."""


def run(demo: Demo) -> str:
    """GET the same video from both BFFs; print both answers and their sizes."""
    show.heading(4, "Backends for Frontends", "the same video for the web and for a phone")
    show.explain(WHY)
    _, bob = demo.users
    path = f"/videos/{demo.video_id}"
    show.say("the web video page")
    web = demo.rest.call("GET", f"/api/web/v1{path}", who=bob)
    show.say("the mobile card")
    mobile = demo.rest.call("GET", f"/api/mobile/v1{path}", who=bob)
    expect(web.status_code == mobile.status_code == 200, "both answer 200")
    web_body, mobile_body = web.json(), mobile.json()
    expect(web_body["video"]["card"]["videoId"] == mobile_body["video"]["videoId"] == demo.video_id,
           "both show the same video")
    sizes = len(web.content), len(mobile.content)
    side_by_side(web_body, mobile_body, sizes)
    expect(sizes[1] < sizes[0], f"the phone downloads {sizes[1]} bytes instead of {sizes[0]}")
    return f"web page {sizes[0]} bytes ({len(web_body)} parts), mobile card {sizes[1]} bytes"


def side_by_side(web: dict[str, object], mobile: dict[str, object], sizes: tuple[int, int]) -> None:
    show.say("side by side: the top-level parts of each answer")
    left = [f"web-bff    {sizes[0]:>5} bytes", *(f"  {key}: {_kind(value)}" for key, value in web.items())]
    right = [f"mobile-bff {sizes[1]:>5} bytes", *(f"  {key}: {_kind(value)}" for key, value in mobile.items())]
    for n in range(max(len(left), len(right))):
        show.result(f"{left[n] if n < len(left) else '':<48}{right[n] if n < len(right) else ''}")


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return f"{{{len(value)} fields}}"
    if isinstance(value, list):
        return f"[{len(value)} items]"
    return json.dumps(value)[:30]
