"""Real-browser fixtures: one headless Chromium per test module, a fresh page per test.

Chromium comes from the system (``/usr/bin/chromium``), not from ``playwright install``, so the
suite needs no download. Without it the browser tests skip on a developer's machine but fail in
CI (where ``CI`` is set), because CI installs Chromium and a skip there would hide a break.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Error, Page, ViewportSize, sync_playwright

from tests.browser.axe import axe_checked_goto, axe_watch, wait_for_axe

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI containers run as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture(scope="module")
def allow_async_unsafe() -> Iterator[None]:
    """Let the test body use the ORM while Playwright's sync API runs its event loop.

    The loop runs in the test's own thread, so Django would otherwise refuse every query with
    ``SynchronousOnlyOperation``. Nothing here is really concurrent: Playwright waits while the
    test queries. The previous value is restored afterwards.
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def chromium(allow_async_unsafe: None) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"Chromium is not installed at {CHROMIUM}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, but CI must run the browser tests (see .ci/run).")
        pytest.skip(f"{reason}; `apt-get install chromium` to run the browser tests.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page whose every loaded page is checked with axe-core: the test fails on any
    serious or critical violation (tests/browser/axe.py)."""
    viewport: ViewportSize = {"width": 1366, "height": 900}
    viewport = getattr(request, "param", viewport)
    context = chromium.new_context(locale="en-GB", timezone_id="Europe/London", viewport=viewport)
    axe_log = axe_watch(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    axe_checked_goto(page)
    yield page
    # The page the test ended on; if it is closed or navigating away, the pages before it were
    # checked as they loaded.
    with contextlib.suppress(Error):
        wait_for_axe(page)
    context.close()
    assert axe_log.checked, "axe checked no page"
    if axe_log.violations:
        pytest.fail("axe found serious or critical violations:\n" + axe_log.failures())
