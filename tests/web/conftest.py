"""Browser tests: a real `missiond serve` process and Debian's Chromium driven by Playwright.

Playwright's own browser downloads are never used: the browser is /usr/bin/chromium
(installed by .ci/run). Screenshots of the main views land in the artifacts directory
(`MISSIOND_ARTIFACTS`, default: <tmp>/missiond-artifacts/web).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from .webkit import CHROMIUM, Dashboard


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB", timezone_id="UTC")
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.fixture(scope="session")
def artifacts() -> Path:
    root = Path(os.environ.get("MISSIOND_ARTIFACTS") or Path(tempfile.gettempdir()) / "missiond-artifacts")
    path = root / "web"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def dashboard(server_factory: Any, page: Page, artifacts: Path) -> Iterator[Dashboard]:
    """A real server with a signed-in page."""
    server = server_factory()
    server.start()
    board = Dashboard(server, page, artifacts)
    board.login()
    yield board
    board.close()
