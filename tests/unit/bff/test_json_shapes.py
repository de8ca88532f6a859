"""What the gateway prints for one video: the web page's JSON and the phone's compact JSON.

Serialised as gateway/envoy.yaml's gRPC-JSON transcoder prints them: lowerCamelCase keys
(preserve_proto_field_names off), `always_print_primitive_fields: true` (zero values and
empty lists are printed too), `add_whitespace: false`. The phone's answer must stay at most
40% of the web page's bytes for the same video, for a typical video and for a bare one.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message

from bff.mobile.screens import Screens
from bff.web.video_page import VideoPage
from tests.unit.bff.fake_services import Fakes
from tests.unit.bff.fakes import deadlines

MOBILE_SHARE_MAX = 0.40


def envoy_json(message: Message) -> str:
    """The JSON body the gateway sends for `message`."""
    printed = json_format.MessageToJson(message, always_print_fields_with_no_presence=True)
    return json.dumps(json.loads(printed), separators=(",", ":"), ensure_ascii=False)


def typical(fakes: Fakes, ada: str, fan: str) -> str:
    """A described, tagged upload with a few comments and channel siblings, liked by the fan."""
    video = fakes.catalog.add_video(
        ada, "Cooking fresh pasta at home", description="Flour, eggs and ten minutes. " * 6,
        tags=["food", "pasta", "howto"], media_url="https://cdn.vidmesh.example/v/pasta.mp4",
        view_count=1520, like_count=87, comment_count=3)
    for body in ("Tried it, great!", "Which flour?", "Tipo 00."):
        fakes.catalog.add_comment(video, fan, body)
    for title in ("Pizza dough", "Tomato sauce", "Risotto"):
        fakes.catalog.add_video(ada, title, media_url=f"https://cdn.vidmesh.example/v/{title}.mp4", view_count=10)
    fakes.catalog.likes.add((video, fan))
    return video


def bare(fakes: Fakes, ada: str, fan: str) -> str:
    """A video just published: no description, tags, views, comments or siblings."""
    return fakes.catalog.add_video(ada, "Cooking fresh pasta at home", media_url="https://cdn.vidmesh.example/v/p.mp4")


async def both(make: Callable[[Fakes, str, str], str]) -> tuple[str, str]:
    """The web page's and the phone's JSON for the same video, seen by the same fan."""
    fakes = Fakes()
    ada, fan = fakes.catalog.add_user("Ada Lovelace"), fakes.catalog.add_user("A. Fan")
    video = make(fakes, ada, fan)
    web_page = await VideoPage(fakes.downstreams, deadlines()).page(fan, video, 0)
    phone = await Screens(fakes.downstreams, deadlines()).video(fan, video, 0)
    return envoy_json(web_page), envoy_json(phone)


@pytest.mark.parametrize("make", [typical, bare])
async def test_mobile_video_is_at_most_40_percent_of_the_web_page(make: Callable[[Fakes, str, str], str]) -> None:
    web_json, mobile_json = await both(make)
    share = len(mobile_json.encode()) / len(web_json.encode())
    assert share <= MOBILE_SHARE_MAX, (len(mobile_json), len(web_json), mobile_json)


async def test_web_video_page_json_shape() -> None:
    web_json, _ = await both(typical)
    page = json.loads(web_json)
    assert set(page) == {"video", "uploader", "comments", "commentsNextPageToken", "related", "viewer", "stale",
                         "degraded", "videoQueryVersion"}
    assert set(page["video"]) == {"card", "description", "version"}
    assert set(page["video"]["card"]) == {
        "videoId", "title", "ownerId", "ownerDisplayName", "durationSeconds", "mediaUrl", "tags", "published",
        "viewCount", "likeCount", "commentCount", "createTime", "publishTime"}
    assert set(page["uploader"]) == {"userId", "displayName", "followerCount"}
    assert page["viewer"] == {"signedIn": True, "liked": True, "following": False, "owner": False}
    assert page["video"]["version"] == "2"  # int64 as a JSON string, as proto3 JSON and Envoy print it
    assert page["degraded"] == []
    assert page["videoQueryVersion"] == "1"  # who answered the video: a canary shows as "2"


async def test_mobile_video_json_shape() -> None:
    _, mobile_json = await both(typical)
    phone = json.loads(mobile_json)
    assert set(phone) == {"video", "likeCount", "liked"}
    assert set(phone["video"]) == {"videoId", "title", "mediaUrl", "uploaderName", "viewCount", "durationSeconds"}
    assert phone["video"]["uploaderName"] == "Ada Lovelace"
