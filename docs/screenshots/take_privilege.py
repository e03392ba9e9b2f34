"""Retake the effective-privilege screenshots of the demo org.

With ``make run`` going (any ports), from the repository root:

    .venv/bin/python docs/screenshots/take_privilege.py [--base http://127.0.0.1:8000]

It signs in at the simulator's login form as the demo Super Admin, waits for the
first full sync to have read the service apps' admin roles, and writes into this
folder (1366x900 viewport, Playwright driving Chromium; ``CHROMIUM_PATH`` when it
is not ``/usr/bin/chromium``):

- ``privilege-super-admin.png``: the page of *Provisioning Bot*, a service app
  with SUPER_ADMIN;
- ``privilege-no-role.png``: the page of *Group Sync Worker*, a service app with
  a manage scope and no admin role (latent risk);
- ``privilege-side-by-side.png``: both, next to each other at full resolution.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import time
from html import escape
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
LOGIN = "super.admin@example.com"
PASSWORD = "Demo-Pass-2026!"
VIEWPORT = {"width": 1366, "height": 900}
# (file name, app label, what it shows, text its privilege section has when read)
SHOTS = (
    (
        "privilege-super-admin.png",
        "Provisioning Bot",
        "Provisioning Bot: a service app with SUPER_ADMIN",
        "with SUPER_ADMIN",
    ),
    (
        "privilege-no-role.png",
        "Group Sync Worker",
        "Group Sync Worker: a service app with no admin role",
        "with no role",
    ),
)
SYNC_WAIT_SECONDS = 180


def chromium() -> str:
    return (
        os.environ.get("CHROMIUM_PATH")
        or shutil.which("chromium")
        or "/usr/bin/chromium"
    )


def sign_in(page: Page, base: str) -> None:
    """Through the console's sign-in button and the simulator's login form."""
    page.goto(base + "/apps/")
    page.get_by_role("button", name="Sign in with Okta").click()
    page.fill("#okta-signin-username", LOGIN)
    page.fill("#okta-signin-password", PASSWORD)
    page.click("#okta-signin-submit")
    page.wait_for_url(re.compile(re.escape(base) + r"/apps/"))


def app_page(page: Page, base: str, label: str, ready: str) -> None:
    """Open the app labelled ``label`` from the apps list, reloading until its
    effective privilege says ``ready`` (the sync has read its roles)."""
    deadline = time.monotonic() + SYNC_WAIT_SECONDS
    while True:
        page.goto(f"{base}/apps/?q={quote(label)}")
        link = page.locator("#apps-results").get_by_role("link", name=label, exact=True)
        if link.count():
            link.click()
            page.wait_for_load_state()
            if ready in page.locator("#app-privilege").inner_text():
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"{label}: no effective privilege after the sync waited")
        time.sleep(5)


def side_by_side(page: Page, files: list[tuple[Path, str]], out: Path) -> None:
    """Both screenshots in two columns with captions, at their own resolution
    (each column is half the viewport at device scale factor 2)."""
    cells = "".join(
        f'<figure><figcaption>{escape(caption)}</figcaption><img alt="" '
        f'src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}">'
        "</figure>"
        for path, caption in files
    )
    page.set_content(
        "<!doctype html><style>"
        "body{margin:0;display:flex;gap:6px;background:#1e293b;"
        "font:600 9px system-ui,sans-serif;color:#fff}"
        "figure{margin:0;flex:1}figcaption{padding:4px 6px}"
        "img{display:block;width:100%}"
        f"</style>{cells}"
    )
    page.locator("img").last.wait_for()
    page.screenshot(path=str(out), full_page=True)


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
        taken = []
        for name, label, caption, ready in SHOTS:
            app_page(page, base, label, ready)
            page.screenshot(path=str(HERE / name))
            taken.append((HERE / name, caption))
            print("wrote", HERE / name)
        composer = browser.new_page(
            viewport={"width": VIEWPORT["width"], "height": 400},
            device_scale_factor=2,
        )
        side_by_side(composer, taken, HERE / "privilege-side-by-side.png")
        print("wrote", HERE / "privilege-side-by-side.png")
        browser.close()


if __name__ == "__main__":
    main()
