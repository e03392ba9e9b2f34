"""The console in a real browser: sign in at the simulator's login page, find an
app, grant a scope in place, revoke it, see both in the audit page and in Okta;
a read-only admin is an auditor; a hostile app label renders as text."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from grantsconsole.grants.models import AuditReport, SyncRun
from grantsconsole.grants.services import create_report
from tests.accounts import flow
from tests.console.conftest import mirror_org, okta_grants

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCOPE = "okta.brands.read"
HOSTILE = "<img src=x onerror=alert(1)>"


def sign_in(page: Page, base: str, login: str, start: str = "/apps/") -> None:
    """From the console's sign-in page (reached by opening ``start``) through
    the simulator's login form."""
    page.goto(base + start)
    page.get_by_role("button", name="Sign in with Okta").click()
    page.fill("#okta-signin-username", login)
    page.fill("#okta-signin-password", flow.DEMO_PASSWORD)
    page.click("#okta-signin-submit")


def _target_app(sim) -> dict:
    for app in sim.state()["apps"]:
        scopes = {g["scopeId"] for g in app["grants"]}
        if (
            app["sign_on_mode"] == "OPENID_CONNECT"
            and app["kind"] == "web"
            and not {SCOPE, "okta.users.manage"} & scopes
            and "onsole" not in app["label"]
        ):
            return app
    raise AssertionError("no web app without the scope")


def test_grant_and_revoke_in_place_then_audit_and_okta_agree(
    page: Page, live_server, sim, shot, axe_violations
):
    mirror_org(sim)
    SyncRun.objects.create(
        kind="full",
        status="succeeded",
        finished_at=timezone.now(),
        apps_total=40,
        apps_done=40,
    )
    app = _target_app(sim)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    sign_in(page, live_server.url, flow.SUPER)
    expect(page.get_by_role("heading", name="OIDC apps")).to_be_visible()
    shot("01-apps-list")
    problems = {"/apps/": axe_violations()}

    # find the app with the search box (htmx swaps the results in place)
    page.get_by_label("Search label or client id").fill(app["label"])
    link = page.locator("#apps-results").get_by_role(
        "link", name=app["label"], exact=True
    )
    expect(link).to_be_visible()
    expect(page.locator("#apps-results tbody tr")).to_have_count(1)
    link.click()
    expect(page.get_by_role("heading", name=app["label"], exact=True)).to_be_visible()
    shot("02-app-detail")
    # the page lists the held scopes; the full catalog is the second view
    page.get_by_role("link", name=re.compile(r"^the full catalog")).click()

    # grant in place: the page is not reloaded, the row turns "granted"
    page.evaluate("window.__noReload = true")
    page.get_by_role("button", name=f"Grant {SCOPE}", exact=True).click()
    results = page.locator("#grant-collection .results")
    expect(results).to_contain_text(f"{SCOPE}: Granted.")
    expect(
        page.get_by_role("button", name=f"Revoke {SCOPE}", exact=True)
    ).to_be_visible()
    assert page.evaluate("window.__noReload") is True
    assert SCOPE in okta_grants(sim, app["id"])
    expect(page.locator("#app-history")).to_contain_text(SCOPE)
    results.scroll_into_view_if_needed()
    shot("03-app-granted-in-place")

    # a manage scope asks first and states the risk
    page.get_by_role("button", name="Grant okta.users.manage", exact=True).click()
    expect(page.get_by_role("alertdialog")).to_contain_text("risk")
    shot("04-confirm-manage-scope")
    problems["confirm"] = axe_violations()
    page.get_by_role("link", name="Cancel").click()
    assert "okta.users.manage" not in okta_grants(sim, app["id"])

    page.get_by_role("button", name=f"Revoke {SCOPE}", exact=True).click()
    page.get_by_role("button", name=re.compile(r"^Yes, revoke")).click()
    expect(page.locator("#grant-collection .results")).to_contain_text(
        f"{SCOPE}: Revoked."
    )
    expect(
        page.get_by_role("button", name=f"Grant {SCOPE}", exact=True)
    ).to_be_visible()
    assert SCOPE not in okta_grants(sim, app["id"])

    # both changes are in the audit trail, attributed to the admin
    page.goto(f"{live_server.url}/audit/?app={app['id']}&scope={SCOPE}")
    rows = page.locator("table tbody tr")
    expect(
        rows.filter(has_text="Granted scope").filter(has_text="success")
    ).to_have_count(1)
    expect(
        rows.filter(has_text="Revoked scope").filter(has_text="success")
    ).to_have_count(1)
    expect(rows.first).to_contain_text(flow.SUPER)
    shot("05-audit")
    problems["/audit/"] = axe_violations()

    # a running sync: the progress bar follows the run (htmx polls every 2 s)
    run = SyncRun.objects.create(
        kind="full", status="running", apps_total=10, apps_done=2
    )
    page.goto(live_server.url + "/sync/")
    bar = page.locator(f"#progress-{run.pk}")
    expect(bar).to_have_attribute("value", "2")
    SyncRun.objects.filter(pk=run.pk).update(apps_done=7)
    expect(bar).to_have_attribute("value", "7", timeout=6000)
    shot("09-sync-running")
    problems["/sync/"] = axe_violations()
    SyncRun.objects.filter(pk=run.pk).update(
        status="succeeded", apps_done=10, finished_at=timezone.now()
    )

    create_report(trigger="beat")
    for path, name in [
        ("/scopes/?held=1", "06-scopes"),
        ("/scopes/matrix/", "07-scopes-matrix"),
        ("/scopes/okta.users.manage/", "08-scope-detail"),
        ("/reports/", "10-reports"),
        (f"/reports/{AuditReport.objects.get().pk}/", "11-report-detail"),
    ]:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        shot(name)
        if "matrix" not in path:  # axe on ~1,000 cells is slow: test_every_page
            problems[path] = axe_violations()
    # the grant collection's rows (every catalog scope) checked on the short view
    page.goto(f"{live_server.url}/apps/{app['id']}/?show=manage")
    problems["/apps/<id>/?show=manage"] = axe_violations()
    assert dialogs == []
    # accessibility: no serious or critical WCAG 2.1 AA violation on any page (axe-core)
    assert {p: v for p, v in problems.items() if v} == {}


def test_the_read_only_admin_is_an_auditor(page: Page, live_server, sim, shot):
    """The demo's Read-Only Admin lands on the audit with an auditor's nav; the
    apps page explains what auditors can and cannot see."""
    mirror_org(sim)
    sign_in(page, live_server.url, flow.READ_ONLY, start="/")
    expect(page).to_have_url(re.compile(r"/audit/$"))
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(
        ["Audit", "Attestation", "Policy", "Reports", "Console health"]
    )
    shot("12-auditor-audit")
    response = page.goto(live_server.url + "/apps/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not open to auditors")).to_be_visible()
    expect(page.locator("#auditor-access")).to_contain_text("They cannot")
    shot("12-auditor-refused-apps")


def test_hostile_label_renders_as_text_and_a_demoted_admin_is_refused_in_place(
    page: Page, live_server, sim, shot
):
    sim.oob_app("create", label=HOSTILE, kind="web", grants=["okta.users.manage"])
    mirror_org(sim)
    app = _target_app(sim)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, live_server.url, flow.SUPER)

    # a hostile app label (set in Okta) is shown as text, never run as markup
    page.get_by_label("Search label or client id").fill("onerror")
    link = page.locator("#apps-results").get_by_role("link", name=HOSTILE, exact=True)
    expect(link).to_be_visible()
    assert page.locator("img[src='x']").count() == 0
    link.click()
    expect(page.get_by_role("heading", name=HOSTILE, exact=True)).to_be_visible()
    assert page.locator("img[src='x']").count() == 0
    shot("13-hostile-label-as-text")
    assert dialogs == []

    # demoted in Okta mid-session: the next write is refused in place, nothing sent
    page.goto(f"{live_server.url}/apps/{app['id']}/?show=manage")
    sim.set_roles(flow.SUPER, ["APP_ADMIN"])
    page.get_by_role("button", name="Grant okta.users.manage", exact=True).click()
    page.get_by_role("button", name=re.compile(r"^Yes, grant")).click()
    expect(page.get_by_role("heading", name="Access refused")).to_be_visible()
    expect(page.locator("main")).to_contain_text("APP_ADMIN")
    shot("14-demoted-admin-refused-in-place")
    assert "okta.users.manage" not in okta_grants(sim, app["id"])
