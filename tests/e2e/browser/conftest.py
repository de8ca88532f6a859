"""Browser fixtures: Debian's Chromium driven by Playwright, one context per user (its own
cookies and sessionStorage, as two people on two machines), screenshots under .run/.

Playwright cannot download its own browser here, so it always starts /usr/bin/chromium
(`.ci/run` installs the package), with the flags that keep Chromium from reaching out to
the network this machine does not have.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from mesh.settings import ROOT, Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / ".run" / "screenshots"
# A sign-up hashes a password (Argon2id): seconds on a loaded 2-core machine.
UI_TIMEOUT_MS = 15_000
expect.set_options(timeout=UI_TIMEOUT_MS)  # assertions, like actions, wait this long


# Package scope, not session: Playwright's sync API runs an event loop in this thread while
# it is open, and pytest-asyncio cannot run the async tests after these until it is closed.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def app_url(settings: Settings) -> str:
    return f"http://{settings.host}:{settings.envoy_port}"


class People:
    """Opens a browser context (a person) on the app, and closes them all at the end."""

    def __init__(self, browser: Browser, app_url: str, test_name: str) -> None:
        self.browser, self.app_url, self.contexts = browser, app_url, list[BrowserContext]()
        self.shots = SCREENSHOTS / re.sub(r"[^\w-]", "_", test_name)
        shutil.rmtree(self.shots, ignore_errors=True)
        self.shots.mkdir(parents=True)

    def open(self) -> Page:
        context = self.browser.new_context(base_url=self.app_url)
        context.set_default_timeout(UI_TIMEOUT_MS)
        self.contexts.append(context)
        return context.new_page()

    def screenshot(self, page: Page, name: str) -> None:
        page.screenshot(path=self.shots / f"{len(list(self.shots.iterdir())):02d}-{name}.png", full_page=True)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def people(browser: Browser, app_url: str, request: pytest.FixtureRequest) -> Iterator[People]:
    crowd = People(browser, app_url, request.node.name)
    yield crowd
    crowd.close()
