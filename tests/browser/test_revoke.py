"""A revoke by keyboard in a real browser: the confirmation takes focus, Escape
cancels it and gives focus back; confirmed, focus lands on the result and its
Undo grants the scope again. axe-core finds nothing serious on the confirmation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.accounts import flow
from tests.browser.test_console import sign_in
from tests.console.conftest import mirror_org, okta_grants

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONSOLE = "0oa1consoleDEMO000x7"
SCOPE = "okta.appGrants.manage"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def _focused(page: Page) -> str:
    """The focused element's id, role and accessible text, for assertions."""
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return [e.id, e.getAttribute('role') || '', e.getAttribute('aria-label')"
        " || e.textContent.trim().slice(0, 80)].join('|'); }"
    )


def test_revoke_confirmation_by_keyboard_then_undo(
    page: Page, live_server, sim, axe_violations
):
    mirror_org(sim)
    sign_in(page, live_server.url, flow.SUPER)
    expect(page.get_by_role("heading", name="OIDC apps")).to_be_visible()
    page.goto(f"{live_server.url}/apps/{CONSOLE}/?show=held")
    page.evaluate("window.__noReload = true")
    revoke = page.get_by_role("button", name=f"Revoke {SCOPE}", exact=True)

    # the confirmation appears in place and takes focus; Escape cancels it
    revoke.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_be_focused()
    expect(dialog).to_contain_text("the console's own app")
    expect(dialog).to_contain_text("Granting and revoking Okta API scopes.")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "revoke-confirm-after.png"))
    assert axe_violations() == []
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(revoke).to_be_focused()
    assert SCOPE in okta_grants(sim, CONSOLE)

    # confirmed without typing the scopeId: refused in place, nothing revoked
    page.keyboard.press("Enter")
    expect(dialog).to_be_focused()
    field = dialog.get_by_label(f"Type {SCOPE} to revoke it")
    field.evaluate("e => e.removeAttribute('required')")  # the server decides
    dialog.get_by_role("button", name=re.compile(r"^Yes, revoke")).click()
    expect(dialog).to_contain_text("Nothing was revoked")
    assert SCOPE in okta_grants(sim, CONSOLE)

    # typed and confirmed by keyboard: focus lands on the result
    field.fill(SCOPE)
    field.press("Enter")
    results = page.locator("#grant-collection .results")
    expect(results).to_contain_text(f"{SCOPE}: Revoked.")
    expect(results).to_be_focused()
    assert SCOPE not in okta_grants(sim, CONSOLE)
    page.screenshot(path=str(ARTIFACTS / "revoke-result-undo.png"))

    # Undo (the next tab stop) asks as for any manage grant, then grants it again
    page.keyboard.press("Tab")
    undo = page.get_by_role("button", name=f"Undo: grant {SCOPE} again")
    expect(undo).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_focused()
    expect(dialog).to_contain_text("Undo the revoke")
    dialog.get_by_role("button", name=re.compile(r"^Yes, grant")).press("Enter")
    expect(results).to_contain_text(f"{SCOPE}: Granted.")
    expect(results).to_be_focused()
    assert SCOPE in okta_grants(sim, CONSOLE)
    assert page.evaluate("window.__noReload") is True


def test_bulk_revoke_confirmation_takes_focus_and_escape_cancels(
    page: Page, live_server, sim, axe_violations
):
    mirror_org(sim)
    sign_in(page, live_server.url, flow.SUPER)
    expect(page.get_by_role("heading", name="OIDC apps")).to_be_visible()
    page.goto(f"{live_server.url}/scopes/okta.apps.read/")
    page.get_by_label("Grants Console", exact=True).check()
    submit = page.get_by_role("button", name="Revoke from selected apps")
    submit.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_be_focused()
    expect(dialog).to_contain_text("the console's own app")
    expect(dialog.get_by_label("Type okta.apps.read to revoke it")).to_be_visible()
    assert axe_violations() == []
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(submit).to_be_focused()
    assert "okta.apps.read" in okta_grants(sim, CONSOLE)
