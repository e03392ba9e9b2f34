"""Retake the usage and governance screenshots of the demo org.

With ``make run`` going (any ports), from the repository root:

    .venv/bin/python docs/screenshots/take_governance.py [--base http://127.0.0.1:8000]

It signs in as the demo Super Admin (``take_privilege.sign_in``), waits until the
usage ingestion has read the simulator's 90 days of activity, and writes into
this folder (1366x900 viewport, Playwright driving Chromium):

- ``usage-unused.png``: the "Unused and reducible" view, riskiest plans first;
- ``usage-app-page.png``: *Org2Org Bridge*'s grants with last issued, last
  exercised and the verdicts (one manage scope in use, one reducible);
- ``governance-requests.png``: the demo's pending request, waiting for a
  second Super Admin;
- ``governance-policy.png``: the demo policy in force and its findings.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from take_privilege import VIEWPORT, chromium, sign_in  # noqa: E402

INGEST_WAIT_SECONDS = 240


def wait_for_text(page: Page, url: str, text: str) -> None:
    """Reload ``url`` until the page shows ``text`` (the worker got there)."""
    deadline = time.monotonic() + INGEST_WAIT_SECONDS
    while True:
        page.goto(url)
        if text in page.content():
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"{url}: no {text!r} after waiting")
        time.sleep(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    base = parser.parse_args().base.rstrip("/")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium(),
            args=["--headless", "--no-sandbox", "--disable-gpu"],
        )
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(20_000)
        sign_in(page, base)
        wait_for_text(page, f"{base}/usage/unused/", "Evidence covers 90 days")
        page.screenshot(path=str(HERE / "usage-unused.png"))
        page.goto(f"{base}/apps/?q={quote('Org2Org Bridge')}")
        page.locator("#apps-results").get_by_role(
            "link", name="Org2Org Bridge", exact=True
        ).click()
        page.wait_for_load_state()
        page.locator("#grant-collection").scroll_into_view_if_needed()
        page.screenshot(path=str(HERE / "usage-app-page.png"))
        wait_for_text(page, f"{base}/requests/", "Device Inventory")
        page.screenshot(path=str(HERE / "governance-requests.png"))
        page.goto(f"{base}/policy/")
        page.screenshot(path=str(HERE / "governance-policy.png"))
        for name in (
            "usage-unused",
            "usage-app-page",
            "governance-requests",
            "governance-policy",
        ):
            print("wrote", HERE / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    main()
