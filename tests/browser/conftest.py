"""Browser tests: the served app (``live_app``) driven in Debian's headless Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from support import mark_folder, require

from sms_core.config import PROJECT_ROOT

BROWSER_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
FAILED = pytest.StashKey[bool]()


def pytest_collection_modifyitems(items):
    mark_folder(items, Path(__file__).parent, pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture(scope="session")
def browser():
    path = shutil.which("chromium") or "/usr/bin/chromium"
    require(os.path.exists(path), "Debian's chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "Playwright for Python is not installed (requirements-dev.txt)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=BROWSER_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, request):
    """A browser tab in the Oslo time zone; a screenshot is kept in test-artifacts/ on failure."""
    context = browser.new_context(timezone_id="Europe/Oslo", locale="en-GB", viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    if request.node.stash.get(FAILED, False):
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
