"""Pages a visitor reads without signing in: search, the next pages of comments, and the
API reference at /docs."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.e2e.browser.conftest import People
from tests.e2e.support.rest import Gateway, new_id, ok

FIRST_PAGE = 20  # comments the video page shows before "Show more comments"


def test_search_finds_a_published_video(people: People, gateway: Gateway) -> None:
    owner = gateway.sign_up("Fay")
    title = f"Heron fishing {uuid.uuid4().hex[:6]}"
    video_id, version = gateway.create_video(owner, title)
    gateway.publish(owner, video_id, version)
    page = people.open()
    page.goto("/")
    page.get_by_role("search").get_by_label("Search videos").fill(title)
    page.get_by_role("search").get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=1, name=f"Search results for “{title}”")).to_be_visible()
    for _ in range(30):  # search reads the projection: ask again until it has the video
        if page.get_by_role("link", name=title).count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.get_by_role("link", name=title)).to_be_visible()
    people.screenshot(page, "search")


def test_show_more_comments_reads_the_next_pages(people: People, gateway: Gateway) -> None:
    owner = gateway.sign_up("Gus")
    video_id, version = gateway.create_video(owner, f"Long thread {uuid.uuid4().hex[:6]}")
    version = gateway.publish(owner, video_id, version)
    for number in range(FIRST_PAGE + 3):
        added = ok(gateway.post(f"/api/web/v1/videos/{video_id}/comments",
                                {"requestId": new_id(), "body": f"Comment number {number}"}, owner))
        version = int(added["version"])
    page = people.open()
    page.goto(f"/videos/{video_id}?minVersion={version}")
    section = page.get_by_role("region", name="Comments")
    comments = section.get_by_role("listitem")
    expect(comments).to_have_count(FIRST_PAGE)
    page.get_by_role("button", name="Show more comments").click()
    expect(comments).to_have_count(FIRST_PAGE + 3)
    expect(comments.last).to_contain_text(f"Comment number {FIRST_PAGE + 2}")
    expect(page.get_by_role("button", name="Show more comments")).to_have_count(0)
    expect(section.get_by_role("link", name="Sign in")).to_be_visible()  # to comment, anonymously
    people.screenshot(page, "comments-paged")


def test_docs_render_every_route_from_the_served_document(people: People, gateway: Gateway) -> None:
    page = people.open()
    page.goto("/")
    page.get_by_role("link", name="API reference").click()
    expect(page.get_by_role("heading", name="vidmesh REST API")).to_be_visible()
    document = ok(gateway.get("/api/openapi.json"))
    for path in ("/api/web/v1/home", "/api/web/v1/videos/{videoId}/comments", "/api/auth/v1/login"):
        assert path in document["paths"]
        expect(page.get_by_text(path, exact=True).first).to_be_visible()
    people.screenshot(page, "docs")
