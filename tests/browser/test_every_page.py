"""Every page of the console in Chromium, on a small org so that even the scope
matrix is quick to check: axe-core finds no serious or critical WCAG 2.1 AA
violation, and at 390 px wide (a phone) the page body never scrolls sideways
(wide tables scroll inside their own box), the nav is reachable and so are the
grant and revoke controls. Screenshots: artifacts/screenshots/mobile-*.png."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from grantsconsole.grants.models import AppControls, AuditReport, OrgSetting
from grantsconsole.grants.services import create_report
from tests.accounts import flow
from tests.browser.test_console import sign_in
from tests.factories import make_apps, make_sync_run, record_action

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

# Sideways overflow of the page itself: scrollWidth beyond the viewport.
OVERFLOW = (
    "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
)


@pytest.fixture
def small_org(db) -> dict[str, str]:
    """Six apps with four grants each, a finished sync, audit rows, a report."""
    apps = make_apps(6, grants_per_app=4, prefix="Small")
    run = make_sync_run(apps_total=6, apps_done=6)
    for app in apps[:3]:
        record_action("grant", app=app, scope_id="okta.users.read", outcome="success")
    # Compensating controls on the app page; the public-client admin setting
    # flagged on health and in the report.
    old = timezone.now() - timedelta(days=1095)
    AppControls.objects.create(
        app=apps[1],
        auth_method="client_secret_basic",
        credentials_state="read",
        credential_count=1,
        oldest_credential_at=old,
        newest_credential_at=old,
        network_connection="ZONE",
        network_include=["nzo1corpnetDEMO000x7"],
    )
    OrgSetting.objects.create(
        name=OrgSetting.CLIENT_PRIVILEGES, enabled=True, changed_at=timezone.now()
    )
    create_report(trigger="beat")
    return {
        "app": apps[1].okta_id,
        "run": str(run.pk),
        "report": str(AuditReport.objects.get().pk),
    }


def _pages(objects: dict[str, str]) -> dict[str, str]:
    """name -> path of every page a Super Admin can open."""
    return {
        "apps": "/apps/",
        "app-detail": f"/apps/{objects['app']}/",
        "app-detail-manage": f"/apps/{objects['app']}/?show=manage",
        "scopes": "/scopes/",
        "scopes-matrix": "/scopes/matrix/",
        "scope-detail": "/scopes/okta.users.manage/",
        "audit": "/audit/",
        "sync": "/sync/",
        "sync-detail": f"/sync/{objects['run']}/",
        "reports": "/reports/",
        "report-detail": f"/reports/{objects['report']}/",
        "health": "/health/console/",
        "requests": "/requests/",
        "request-new": f"/requests/new?app={objects['app']}&scope=okta.users.manage",
        "sign-out": "/accounts/logout/",
        "not-found": "/no/such/page/",
    }


def test_every_page_passes_axe(page: Page, live_server, sim, small_org, axe_violations):
    base = live_server.url
    page.goto(base + "/accounts/login/")
    problems = {"sign-in": axe_violations()}
    sign_in(page, base, flow.SUPER)
    expect(page.get_by_role("heading", name="OIDC apps")).to_be_visible()
    for name, path in _pages(small_org).items():
        page.goto(base + path)
        problems[name] = axe_violations()
    # the confirmation before a manage scope, in place
    page.goto(f"{base}/apps/{small_org['app']}/?show=manage")
    page.get_by_role("button", name=re.compile(r"^Grant okta\.")).first.click()
    expect(page.get_by_role("alertdialog")).to_be_visible()
    problems["confirm"] = axe_violations()
    assert {p: v for p, v in problems.items() if v} == {}


def test_every_page_of_an_auditor_passes_axe(
    page: Page, live_server, sim, small_org, axe_violations
):
    base = live_server.url
    sign_in(page, base, flow.READ_ONLY, start="/")
    expect(page).to_have_url(re.compile(r"/audit/$"))
    problems = {"auditor-audit": axe_violations()}
    page.goto(base + "/apps/")
    expect(page.get_by_role("heading", name="Not open to auditors")).to_be_visible()
    problems["auditor-refused"] = axe_violations()
    assert {p: v for p, v in problems.items() if v} == {}


def _check_phone_page(page: Page, name: str, shot) -> list[str]:
    """What is wrong with the current page at phone width (empty: nothing)."""
    wrong = []
    over = page.evaluate(OVERFLOW)
    if over > 0:
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                 .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
                 .slice(0, 6).map(e => e.tagName + '.' + e.className + ':'
                   + Math.round(e.getBoundingClientRect().right))"""
        )
        wrong.append(f"{name}: the page scrolls sideways by {over}px ({wide})")
    for link in page.locator("nav.site-nav a").all():
        link.scroll_into_view_if_needed()
        box = link.bounding_box()
        if box is None or box["x"] < 0 or box["x"] + box["width"] > PHONE["width"]:
            wrong.append(f"{name}: nav link {link.inner_text()} is out of reach")
    shot(f"mobile-{name}", full_page=True)
    return wrong


def test_every_page_is_usable_at_390px(page: Page, live_server, sim, small_org, shot):
    base = live_server.url
    page.set_viewport_size(PHONE)
    sign_in(page, base, flow.SUPER)
    expect(page.get_by_role("heading", name="OIDC apps")).to_be_visible()
    wrong = []
    for name, path in _pages(small_org).items():
        page.goto(base + path)
        wrong += _check_phone_page(page, name, shot)
    # the grant and revoke controls of an app are reachable (the full catalog:
    # the held view has no Grant buttons, its picker is checked elsewhere)
    page.goto(f"{base}/apps/{small_org['app']}/?show=all")
    for verb in ("Grant", "Revoke"):
        button = page.get_by_role("button", name=f"{verb} okta.", exact=False).first
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        if box is None or box["x"] < 0 or box["x"] + box["width"] > PHONE["width"]:
            wrong.append(f"app-detail: the first {verb} button is out of reach ({box})")
    assert wrong == []
