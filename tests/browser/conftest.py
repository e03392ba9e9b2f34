"""Browser tests: pytest-playwright driving Debian's Chromium (stack-notes §5)
against ``live_server`` and the Okta org simulator over HTTP."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# The ORM is used from the test while Playwright's sync API runs an event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = (
    os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A laptop screen.
    return {**browser_context_args, "viewport": {"width": 1366, "height": 800}}


@pytest.fixture
def shot(page):
    """``shot(name)`` saves a screenshot (the laptop-sized viewport, or the whole
    page with ``full_page=True``) to artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_default_timeout(10_000)

    def take(name: str, *, full_page: bool = False) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    return take
