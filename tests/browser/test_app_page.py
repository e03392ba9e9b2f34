"""The app page in a real browser: held scopes first, the "Add scopes" picker
driven by the keyboard alone (open, type to filter, Space to tick, submit),
axe-core on the page and the picker, and the page at a phone's 390 px."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.accounts import flow
from tests.browser.test_console import _target_app, sign_in
from tests.console.conftest import mirror_org, okta_grants

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SCOPE = "okta.brands.read"


def _tab_to(page: Page, selector: str, limit: int = 40) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_the_picker_by_keyboard_alone(page: Page, live_server, sim, axe_violations):
    mirror_org(sim)
    app = _target_app(sim)
    held = okta_grants(sim, app["id"])
    sign_in(page, live_server.url, flow.SUPER)
    expect(page.get_by_role("heading", name="OIDC apps")).to_be_visible()
    page.goto(f"{live_server.url}/apps/{app['id']}/")
    rows = page.locator("#grant-form tbody tr:not(.group-head)")
    expect(rows).to_have_count(len(held))  # held first: no catalog rows
    page.screenshot(path=str(ARTIFACTS / "app-page-after.png"), full_page=True)
    problems = {"app page": axe_violations()}

    # open the picker from the keyboard; the search box takes the focus
    _tab_to(page, "a[href*='pick=1']")
    page.keyboard.press("Enter")
    search = page.get_by_label("Search scopes")
    expect(search).to_be_focused()
    problems["picker"] = axe_violations()

    # type to filter (live, in place), tick with Space, submit with Enter
    page.evaluate("window.__noReload = true")
    page.keyboard.type("brands")
    checkbox = page.locator(f"#picker-results input[value='{SCOPE}']")
    expect(checkbox).to_be_visible()
    expect(
        page.locator("#picker-results input[value='okta.users.manage']")
    ).to_have_count(0)
    _tab_to(page, f"#picker-results input[value='{SCOPE}']")
    page.keyboard.press("Space")
    expect(checkbox).to_be_checked()
    page.screenshot(path=str(ARTIFACTS / "app-page-picker.png"), full_page=False)
    _tab_to(page, "#picker-grant button[type=submit]")
    page.keyboard.press("Enter")

    expect(page.locator("#grant-collection .results")).to_contain_text(
        f"{SCOPE}: Granted."
    )
    assert SCOPE in okta_grants(sim, app["id"])
    assert page.evaluate("window.__noReload") is True
    # the view survived the write: the picker is still open, still filtered,
    # and the scope is now held (in the list above and in the picker)
    expect(page.get_by_label("Search scopes")).to_have_value("brands")
    expect(page.locator("#picker-results")).to_contain_text(f"{SCOPE} — held already")
    expect(page.locator(f"#row-{SCOPE.replace('.', '\\.')}")).to_be_visible()
    assert {p: v for p, v in problems.items() if v} == {}


def test_the_app_page_works_at_390_px(page: Page, live_server, sim, axe_violations):
    mirror_org(sim)
    app = _target_app(sim)
    scope = sorted(okta_grants(sim, app["id"]))[0]
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, flow.SUPER)
    expect(page.get_by_role("heading", name="OIDC apps")).to_be_visible()
    page.goto(f"{live_server.url}/apps/{app['id']}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # each row is a card: nothing scrolls sideways, the scope beside its button
    assert page.evaluate(
        "[...document.querySelectorAll('.table-wrap')]"
        ".every(w => w.scrollWidth <= w.clientWidth)"
    )
    # the grant and revoke controls are on screen once scrolled to, not
    # hidden off to the right of a table
    for control in (
        page.get_by_role("link", name="Add scopes"),
        page.get_by_role("button", name=f"Revoke {scope}", exact=True),
        page.get_by_role("button", name="Revoke selected").first,
    ):
        control.scroll_into_view_if_needed()
        expect(control).to_be_in_viewport()
        box = control.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390
    page.screenshot(path=str(ARTIFACTS / "app-page-390px.png"), full_page=True)
    page.get_by_role("link", name="Add scopes").click()
    grant = page.get_by_role("button", name="Grant selected scopes")
    grant.scroll_into_view_if_needed()
    expect(grant).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations() == []


def test_risk_first_pages_and_a_matrix_cell_leads_to_its_scope(
    page: Page, live_server, sim, axe_violations
):
    mirror_org(sim)
    sign_in(page, live_server.url, flow.SUPER)
    expect(page.get_by_role("heading", name="OIDC apps")).to_be_visible()
    problems = {}
    for path in ("/apps/?sort=-risk&risk=high", "/scopes/?sort=risk&risk=medium"):
        assert page.goto(live_server.url + path).status == 200
        problems[path] = axe_violations()
    page.goto(live_server.url + "/scopes/matrix/?size=all")
    problems["matrix"] = axe_violations()
    page.screenshot(path=str(ARTIFACTS / "matrix-risk.png"), full_page=False)
    # every scope family's name is whole in its column head, none cut off
    assert (
        page.evaluate(
            "[...document.querySelectorAll('table.matrix thead th')]"
            ".filter(th => th.scrollHeight > th.clientHeight).map(th => th.textContent)"
        )
        == []
    )
    cell = page.locator("td.cell-risk-critical a").first
    scope = cell.locator(".visually-hidden").inner_text().rsplit(": ", 1)[1]
    cell.click()
    row = page.locator(f"tr[id='row-{scope}']")
    expect(row).to_be_visible()
    expect(row).to_be_in_viewport()
    expect(row).to_contain_text("granted")
    assert {p: v for p, v in problems.items() if v} == {}


# The boxes of the grant rows that a toolbar of the grant form overlaps, among
# those inside the viewport.
_ROWS_UNDER_A_TOOLBAR = """() => {
  const bars = [...document.querySelectorAll('#grant-form .toolbar')]
    .map(b => b.getBoundingClientRect());
  return [...document.querySelectorAll('#grant-form tbody tr:not(.group-head)')]
    .filter(row => {
      const r = row.getBoundingClientRect();
      return r.top < innerHeight && r.bottom > 0
        && bars.some(b => r.top < b.bottom && b.top < r.bottom);
    })
    .map(row => row.id);
}"""


def test_no_toolbar_covers_a_grant_row(page: Page, live_server, sim):
    """At a laptop's 1366x900 the held scopes are all in sight, none under a
    "Revoke selected" bar; in the long manage list, a checkbox reached by Tab
    is never left under the bar that stays at the bottom of the window."""
    mirror_org(sim)
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server.url, flow.SUPER)
    expect(page.get_by_role("heading", name="OIDC apps")).to_be_visible()
    page.goto(f"{live_server.url}/apps/0oa1consoleDEMO000x7/")
    expect(page.locator("#row-okta\\.appGrants\\.manage")).to_be_visible()
    assert page.evaluate(_ROWS_UNDER_A_TOOLBAR) == []

    page.goto(f"{live_server.url}/apps/0oa1consoleDEMO000x7/?show=manage")
    boxes = page.locator("#grant-form tbody tr:not(.group-head) input[name=scope]")
    assert boxes.count() > 20
    boxes.first.focus()
    for _ in range(boxes.count()):
        hidden = page.evaluate(
            "() => { const e = document.activeElement, r = e.getBoundingClientRect();"
            " const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);"
            " return hit === e || e.contains(hit) ? '' : e.id; }"
        )
        assert hidden == ""
        page.keyboard.press("Tab")
