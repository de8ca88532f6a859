"""What a person does in the app, step by step, found by roles and labels only."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.support.rest import PASSWORD

UNREAD = re.compile(r"^Notifications, (\d+) unread$")
# Registering hashes a password: on a busy machine the gateway's 5 s can pass, and the app
# sends the registration again (same request id) up to twice, then signs in.
SIGN_UP_TIMEOUT_MS = 45_000


def sign_up(page: Page, name: str) -> str:
    """Register `name` through the sign-up form; returns the email."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.test"
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Display name").fill(name)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=SIGN_UP_TIMEOUT_MS)
    return email


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def unread_badge(page: Page, unread: int | None = None) -> None:
    """Wait until the header's notifications link says `unread` (any number when None)."""
    name = UNREAD if unread is None else (f"Notifications, {unread} unread" if unread else "Notifications")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)
           ).to_be_visible(timeout=30_000)


def create_draft(page: Page, title: str, duration: str, tags: str = "") -> None:
    page.get_by_role("link", name="Upload").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("Filmed on the river at first light.")
    page.get_by_label("Duration in seconds").fill(duration)
    page.get_by_label("Tags").fill(tags)
    page.get_by_role("button", name="Create draft").click()
