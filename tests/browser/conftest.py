"""Browser tests: pytest-playwright driving Debian's Chromium (stack-notes §5)
against ``live_server`` and the Okta org simulator over HTTP."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.grants.conftest import worker_client  # noqa: F401 (a worker in the test)

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


@pytest.fixture
def axe_violations(page):
    """``axe_violations()`` runs axe-core (WCAG 2.1 A/AA rules) on the current page
    and returns its serious and critical violations as ``[(rule id, [targets])]``."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def run() -> list[tuple[str, list[str]]]:
        results = axe.run(
            page,
            options={
                "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]},
                "resultTypes": ["violations"],
            },
        )
        return [
            (v["id"], [str(n["target"]) for n in v["nodes"]][:5])
            for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]

    return run
