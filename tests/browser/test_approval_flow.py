"""Two-person approval in a real browser: a Super Admin's grant of a critical
scope becomes a request with an end time; a second Super Admin approves it and
the grant runs in Okta with their token; at the end time the enforcer revokes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from grantsconsole import okta_clients
from grantsconsole.celery import _worker_may_enforce
from grantsconsole.governance import expiry
from grantsconsole.grants.models import ScopeGrant
from tests.accounts import flow
from tests.browser.test_console import sign_in
from tests.console.conftest import mirror_org, okta_grants, web_app
from tests.governance.test_expiry import DEMO_KEY, ENFORCER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCOPE = "okta.users.manage"


def test_request_approve_grant_then_expiry(
    page: Page, live_server, sim, settings, monkeypatch
):
    settings.APPROVAL_MIN_RISK = "critical"
    mirror_org(sim)
    app = web_app(sim, without=SCOPE)
    ends = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)

    # the requester's grant becomes a request, with a justification and an end
    sign_in(page, live_server.url, flow.SUPER, start=f"/apps/{app['id']}/")
    page.get_by_label("Grant a scope by id").fill(SCOPE)
    page.locator("#grant-by-id").get_by_role("button", name="Grant").click()
    expect(page.get_by_role("heading", name="Request a grant")).to_be_visible()
    page.get_by_label("Why does the app need it?").fill("Provisions new hires")
    page.locator("#id_ends_at").fill(ends.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("#main")).to_contain_text("Request sent")
    assert SCOPE not in okta_grants(sim, app["id"])

    # a second Super Admin approves: the grant runs with their token
    sim.set_roles(flow.ORG_ADMIN, ["SUPER_ADMIN"])
    page.context.clear_cookies()
    sign_in(page, live_server.url, flow.ORG_ADMIN, start="/requests/")
    expect(page.locator("#nav-pending")).to_contain_text("1")
    page.get_by_role("button", name=f"Approve {SCOPE} for {app['label']}").click()
    expect(page.locator("#main")).to_contain_text(f"Granted {SCOPE} to {app['label']}.")
    assert SCOPE in okta_grants(sim, app["id"])
    assert ScopeGrant.objects.get(scope_id=SCOPE, app__okta_id=app["id"]).ends_at == (
        ends
    )

    # past the end time, the enforcer (in a worker) revokes it
    settings.ENFORCER_CLIENT_ID = ENFORCER
    monkeypatch.setenv("ENFORCER_PRIVATE_KEY", DEMO_KEY.read_text())
    monkeypatch.setattr(okta_clients, "_enforcer_process", False)
    _worker_may_enforce(sender=None)
    assert expiry.enforce_expiries(now=ends + timedelta(seconds=1)).revoked == 1
    assert SCOPE not in okta_grants(sim, app["id"])
    page.goto(f"{live_server.url}/apps/{app['id']}/?show=held")
    expect(page.locator("#grant-collection")).not_to_contain_text(SCOPE)
