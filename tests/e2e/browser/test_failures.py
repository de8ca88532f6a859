"""The app when things go wrong: a service down is a part "unavailable right now", not a
broken page; a 401 (the token gone) sends the user to sign in and back; a 429 says to
wait and retry."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from scripts.devstack.stack import Stack
from tests.e2e.browser.conftest import People
from tests.e2e.browser.steps import sign_in, sign_up, unread_badge
from tests.e2e.conftest import World
from tests.e2e.support.instances import assert_in_stack, instances, restore
from tests.e2e.support.rest import Gateway
from tests.e2e.support.waiting import eventually

NOBODY = "nobody@example.test"


def test_with_notification_stopped_the_pages_still_work(people: People, stack: Stack, world: World) -> None:
    page = people.open()
    sign_up(page, "Dee")
    unread_badge(page, 0)
    notification = instances(stack.settings, "notification")
    assert_in_stack(stack, notification)
    try:
        for instance in notification:
            stack.pc.stop_process(instance.name)
        badge = page.get_by_role("link", name="Notifications (unavailable right now)")
        expect(badge).to_be_visible(timeout=30_000)  # the next poll after the BFF lost it
        page.reload()
        expect(page.get_by_role("heading", name="Trending")).to_be_visible()
        expect(page.get_by_role("region", name="From channels you follow")).to_be_visible()
        people.screenshot(page, "home-without-notification")
        page.goto(f"/videos/{world.video_id}")
        expect(page.get_by_role("heading", level=1, name=world.title)).to_be_visible()
        badge.click()
        expect(page.get_by_role("alert")).to_have_text(re.compile("Notifications is unavailable right now"))
        people.screenshot(page, "notifications-unavailable")
    finally:
        assert not restore(stack, notification), "notification did not come back"
    # Back as a user finds out: press Retry, once a second, until the page answers.
    retry, answered = page.get_by_role("button", name="Retry"), page.get_by_text("Nothing yet.")
    for _ in range(30):
        if answered.is_visible():
            break
        if retry.is_visible():
            retry.click()
        page.wait_for_timeout(1000)
    expect(answered).to_be_visible()
    unread_badge(page, 0)


def test_a_401_sends_to_sign_in_and_back(people: People, world: World) -> None:
    page = people.open()
    email = sign_up(page, "Eve")
    page.goto(f"/videos/{world.video_id}")
    like = page.get_by_role("button", name="Like")
    expect(like).to_be_visible()
    page.evaluate("sessionStorage.removeItem('vidmesh.session')")  # the token is gone
    like.click()  # sent without a token: the gateway answers 401
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    assert page.url.endswith(f"/signin?next=%2Fvideos%2F{world.video_id}"), page.url
    people.screenshot(page, "sign-in-after-401")
    sign_in(page, email)
    expect(page.get_by_role("heading", level=1, name=world.title)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def login_bucket_empty(gateway: Gateway) -> bool:
    """Take one token of the gateway's login bucket cheaply: a login whose body is not JSON
    is counted, then refused by the transcoder (400) before it reaches the users service (no
    password hashed). True once the bucket is empty."""
    return gateway.http.post("/api/auth/v1/login", content=b"{", headers={"content-type": "application/json"}
                             ).status_code == 429


def test_a_429_says_to_wait_and_retry(people: People, gateway: Gateway) -> None:
    page = people.open()
    page.goto("/signin")
    alert = page.get_by_role("alert")
    for _ in range(3):  # the bucket refills every 10 s, maybe between the burst and the click
        eventually(lambda: login_bucket_empty(gateway) or None, "the login bucket empty", timeout=10, interval=0)
        sign_in(page, NOBODY, "not the password")
        expect(alert).to_be_visible()
        if "Too many requests" in alert.inner_text():
            break
    expect(alert).to_have_text("Too many requests right now. Wait a moment, then retry.")
    people.screenshot(page, "rate-limited")
    # Leave the login bucket as found for the tests after this one.
    eventually(lambda: not login_bucket_empty(gateway) or None, "the login bucket refilled", timeout=15, interval=0.5)
