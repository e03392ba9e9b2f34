"""Live work in a real browser: "Sync now" shows the queued run and follows it
until it ends while the test plays the worker; the audit page and a row's page
read well and pass axe-core; "Generate report now" shows the report arriving."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from grantsconsole.grants import services, tasks
from grantsconsole.grants.models import AuditEvent, SyncRun
from grantsconsole.grants.services import full_sync
from tests.accounts import flow
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_console import sign_in
from tests.console.conftest import web_app

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = SCREENSHOTS.parent
# The test database is one in-memory SQLite database shared by the test and the
# live server's thread, with table locks: the page's polls are held off while
# the test, playing the worker, writes (a real worker has its own connection).
TRACK_POLLS = """() => {
  window.__hold = false; window.__inflight = 0;
  document.body.addEventListener('htmx:beforeRequest', e => {
    if (window.__hold) { e.preventDefault(); } else { window.__inflight++; }
  });
  document.body.addEventListener('htmx:afterRequest', () => { window.__inflight--; });
}"""


def as_worker(page: Page, work):
    """Run ``work()`` while no poll of the page is in flight; returns its result."""
    page.evaluate("window.__hold = true")
    page.wait_for_function("window.__inflight <= 0")
    try:
        return work()
    finally:
        page.evaluate("window.__hold = false")


def test_sync_now_follows_the_run_to_its_end_and_the_audit_reads_well(
    page: Page, live_server, sim, worker_client, monkeypatch, axe_violations
):
    page.set_default_timeout(10_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # No Celery worker runs here: the test does the worker's part below.
    monkeypatch.setattr(tasks.start_full_sync, "delay", lambda **kw: None)
    monkeypatch.setattr(tasks.full_sync_step, "delay", lambda *a, **kw: None)
    monkeypatch.setattr(
        tasks.audit_report, "delay", lambda **kw: tasks.audit_report(**kw)
    )
    sign_in(page, live_server.url, flow.SUPER)
    expect(page.get_by_role("heading", name="OIDC apps")).to_be_visible()

    page.goto(live_server.url + "/sync/")
    page.get_by_label("Kind").select_option("full")
    page.get_by_role("button", name="Sync now").click()
    run = SyncRun.objects.get()
    live = page.locator("#sync-live")
    expect(page.get_by_role("heading", name=f"Full sync #{run.pk}")).to_be_visible()
    expect(live).to_contain_text("Waiting for a worker to start it")
    expect(live).to_contain_text(flow.SUPER)
    problems = {"/sync/<id>/ queued": axe_violations()}
    page.evaluate(TRACK_POLLS)

    # the worker starts the queued run and reads the first page of apps
    def start() -> int | None:
        tasks.start_full_sync(trigger="console", requested_by=flow.SUPER, run_id=run.pk)
        return full_sync.full_sync_step(run.pk, 0, client=worker_client)

    assert as_worker(page, start) == 1
    expect(live).to_contain_text("Running for", timeout=6000)
    requests = SyncRun.objects.get(pk=run.pk).okta_requests
    expect(live).to_contain_text(f"{requests} Okta request")
    expect(live).to_have_attribute("hx-trigger", "every 2s")
    # the first batch of apps' grants: the page follows the counters
    assert (
        as_worker(
            page, lambda: full_sync.full_sync_step(run.pk, 1, client=worker_client)
        )
        == 2
    )
    running = SyncRun.objects.get(pk=run.pk)
    expect(live).to_contain_text(
        f"{running.apps_done} apps read, {running.okta_requests} Okta requests",
        timeout=6000,
    )
    page.screenshot(path=str(ARTIFACTS / "sync-live.png"))
    problems["/sync/<id>/ running"] = axe_violations()

    step: int | None = 2
    while step is not None:
        step = as_worker(
            page,
            lambda s=step: full_sync.full_sync_step(run.pk, s, client=worker_client),
        )
    done = SyncRun.objects.get(pk=run.pk)
    assert done.status == "succeeded"
    expect(live).to_contain_text("Ended after", timeout=6000)
    expect(live).to_contain_text(f"{done.apps_done} of {done.apps_total}")
    expect(live).not_to_have_attribute("hx-trigger", "every 2s")  # polling stopped

    # a change made in Okta meanwhile: the audit row says when Okta made it
    app = web_app(sim, without="okta.users.manage")
    sim.oob_grant(app["id"], "okta.users.manage", actor_login=flow.SUPER)
    services.run_incremental_sync(client=worker_client, trigger="test")
    row = AuditEvent.objects.get(action="external_grant")
    page.goto(live_server.url + "/audit/")
    first = page.locator("table tbody tr").first
    expect(first).to_contain_text("Granted in Okta (out of band)")
    expect(first).to_contain_text("in Okta 20")
    page.screenshot(path=str(ARTIFACTS / "audit-page.png"))
    problems["/audit/"] = axe_violations()

    page.get_by_role("link", name=f"Row {row.seq} in full").click()
    expect(page.get_by_role("heading", name=f"Audit row #{row.seq}")).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "This row's hash and MAC match its contents"
    )
    problems["/audit/<seq>/"] = axe_violations()

    page.goto(live_server.url + "/reports/")
    page.get_by_role("button", name="Generate report now").click()
    expect(page.locator("#report-arriving")).to_contain_text("The new report is here")
    expect(page.locator("#stored-reports")).not_to_contain_text("No report yet")
    problems["/reports/ after Generate report now"] = axe_violations()
    # accessibility: no serious or critical WCAG 2.1 AA violation (axe-core)
    assert {p: v for p, v in problems.items() if v} == {}
