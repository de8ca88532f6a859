"""Two people, each in their own browser, through the whole story: sign up, follow, create
a video (a validation error first), publish it, the follower sees it on the home page and
gets the notification, likes and comments, and the owner sees the comment notification."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.e2e.browser.conftest import People
from tests.e2e.browser.steps import create_draft, sign_up, unread_badge


def test_two_people_go_through_the_whole_story(people: People) -> None:
    ada, bob = people.open(), people.open()
    sign_up(ada, "Ada")
    sign_up(bob, "Bob")

    # Ada shares the link of her channel; Bob follows it.
    ada.get_by_role("navigation", name="Main").get_by_role("link", name="Ada").click()
    expect(ada.get_by_role("heading", level=1, name="Ada")).to_be_visible()
    bob.goto(ada.url)
    bob.get_by_role("button", name="Follow").click()
    expect(bob.get_by_role("button", name="Unfollow")).to_be_visible()
    expect(bob.get_by_text("1 follower", exact=True)).to_be_visible()
    people.screenshot(bob, "channel-followed")

    # A duration of 0 is refused by the server; the message sits with its field.
    title = f"Otters at dawn {uuid.uuid4().hex[:6]}"
    create_draft(ada, title, duration="0", tags="otters, river")
    duration = ada.get_by_label("Duration in seconds")
    expect(duration).to_have_attribute("aria-invalid", "true")
    expect(duration).to_have_accessible_description(re.compile("greater than or equal to 1"))
    expect(ada.get_by_role("alert")).to_contain_text("correct the fields")
    expect(ada.get_by_label("Title")).not_to_have_attribute("aria-invalid", "true")
    people.screenshot(ada, "create-validation-error")

    duration.fill("95")
    ada.get_by_role("button", name="Create draft").click()
    expect(ada.get_by_role("heading", level=1, name=title)).to_be_visible()
    expect(ada.get_by_text("This is a draft")).to_be_visible()
    people.screenshot(ada, "draft")
    ada.get_by_role("button", name="Publish").click()
    # Read through the version the publish returned: published at once, no refresh.
    expect(ada.get_by_role("button", name="Like")).to_be_visible()
    expect(ada.get_by_text("This is a draft")).to_have_count(0)
    assert "minVersion=" in ada.url

    # Bob: the notification badge updates by itself, and the home page lists the video.
    unread_badge(bob, 1)
    bob.get_by_role("link", name="vidmesh").click()
    following = bob.get_by_role("region", name="From channels you follow")
    for_you = bob.get_by_role("region", name="For you")  # recommendations: new from followed channels
    for _ in range(30):  # the home page is read when opened: open it again until both read models have it
        if following.get_by_role("link", name=title).count() and for_you.get_by_role("link", name=title).count():
            break
        bob.wait_for_timeout(500)
        bob.reload()
    expect(following.get_by_role("link", name=title)).to_be_visible()
    expect(for_you.get_by_role("link", name=title)).to_be_visible()
    people.screenshot(bob, "home-with-followed-video")

    following.get_by_role("link", name=title).click()
    expect(bob.get_by_role("heading", level=1, name=title)).to_be_visible()
    bob.get_by_role("button", name="Like").click()
    expect(bob.get_by_role("button", name="Unlike")).to_be_visible()
    expect(bob.get_by_text(re.compile(r"1 like\b"))).to_be_visible()
    bob.get_by_label("Add a comment").fill("Lovely otters!")
    bob.get_by_role("button", name="Post comment").click()
    comments = bob.get_by_role("region", name="Comments")
    expect(comments.get_by_role("listitem").filter(has_text="Lovely otters!")).to_be_visible()
    people.screenshot(bob, "video-liked-and-commented")

    # Ada hears of the comment, reads it, and marks everything read.
    unread_badge(ada, 1)
    ada.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile("^Notifications")).click()
    expect(ada.get_by_role("link", name=f"Bob commented on your video: {title}")).to_be_visible()
    people.screenshot(ada, "notifications")
    ada.get_by_role("button", name="Mark all as read").click()
    expect(ada.get_by_text("All read.")).to_be_visible()
    unread_badge(ada, 0)
