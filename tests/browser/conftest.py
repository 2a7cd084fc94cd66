"""Browser tests: the system's Chromium, driven by Playwright, against a real server
(tests/e2e/server.py) with the shipped channels loaded.

Pages are opened at a phone's width (390 px) and a desktop's (1280 px), with JavaScript off as
the reporter pages must work (and on where it changes what a browser does, such as Back).
Chromium is /usr/bin/chromium (Debian's package): Playwright's own browser download cannot work
here, so a missing Chromium fails the tests with what to install instead of skipping them.
Screenshots go to $WHISTLE_TEST_SCREENSHOTS, or a temporary directory named in the test output.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.server import ROOT, Server

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]
WIDTHS = (390, 1280)  # a phone, a desktop
HEIGHT = 900
SHIPPED_CHANNELS = ROOT / "config" / "channels.toml"
MATRIX_SUMMARY: list[str] = []  # the accessibility matrix's count of checks, for the run's summary


def pytest_terminal_summary(terminalreporter):
    if MATRIX_SUMMARY:
        terminalreporter.section("accessibility matrix")
        for line in MATRIX_SUMMARY:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Iterator[Server]:
    """One server for the browser tests: the demo guardian receives every shipped channel's cases."""
    server = Server(tmp_path_factory.mktemp("browser-site"))
    server.start()
    try:
        # A channel nobody receives may be refused, so give each one the demo guardian.
        channels = re.sub(r"(?m)^(retention_days = \d+)$", r'\1\nguardians = ["demo.guardian"]',
                          SHIPPED_CHANNELS.read_text())
        path = server.directory / "channels.toml"
        path.write_text(channels)
        server.whistle("channels", "load", str(path))
        yield server
    finally:
        server.stop()


def require_chromium(path: Path = CHROMIUM) -> Path:
    """`path`, or the test fails (never skips) saying what to install."""
    if not path.exists():
        pytest.fail(f"The browser tests need Chromium at {path}: apt-get install chromium", pytrace=False)
    return path


@pytest.fixture(scope="session")
def chromium():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def workspace(site, chromium):
    """Cases in three states, and the demo guardian and admin signed in (tests/browser/pages.py):
    made once, as the guardian's one-time codes allow one sign-in per 30-second step."""
    from tests.browser.pages import build_workspace

    return build_workspace(site, chromium)


@pytest.fixture
def open_page(chromium, site) -> Iterator[Callable]:
    """open_page(width, javascript=False, **context options) -> a new page in a fresh browser profile."""
    contexts = []

    def open_(width: int, javascript: bool = False, **options):
        context = chromium.new_context(viewport={"width": width, "height": HEIGHT}, java_script_enabled=javascript,
                                       base_url=f"http://127.0.0.1:{site.port}", **options)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Callable:
    """shoot(page, name): a full-page PNG in the screenshots directory, for a person to look at."""
    directory = Path(os.environ.get("WHISTLE_TEST_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    directory.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {directory}")

    def shoot(page, name: str) -> Path:
        path = directory / f"{name}-{page.viewport_size['width']}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot
