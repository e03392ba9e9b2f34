"""Sync page (live progress, Sync now, per-app errors, stale banner) and reports
(stored reports, exports, SVG charts)."""

from __future__ import annotations

import json
from xml.etree import ElementTree

from django.utils import timezone

from grantsconsole.grants import tasks
from grantsconsole.grants.models import AuditReport, SyncRun
from tests.console.conftest import web_app
from tests.factories import ORG_ADMIN, SUPER, make_apps, make_sync_run


def test_a_running_sync_shows_a_progress_bar_that_polls(admin, db):
    run = SyncRun.objects.create(
        kind="full", status="running", apps_total=10, apps_done=4
    )
    page = admin.get("/sync/").content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert f'<progress id="progress-{run.pk}" max="10" value="4">' in page
    SyncRun.objects.filter(pk=run.pk).update(apps_done=9)
    fragment = admin.get("/sync/progress").content.decode()
    assert fragment.lstrip().startswith('<section id="sync-progress"')
    assert 'value="9"' in fragment
    SyncRun.objects.filter(pk=run.pk).update(
        status="succeeded", finished_at=timezone.now()
    )
    done = admin.get("/sync/progress").content.decode()
    assert "hx-trigger" not in done  # polling stops
    assert "No sync is running" in done


def test_sync_now_queues_the_chosen_kind_after_commit(
    admin, db, monkeypatch, django_capture_on_commit_callbacks
):
    queued: list[tuple[str, dict]] = []
    monkeypatch.setattr(
        tasks.start_full_sync, "delay", lambda **kw: queued.append(("full", kw))
    )
    monkeypatch.setattr(
        tasks.incremental_sync, "delay", lambda **kw: queued.append(("incremental", kw))
    )
    with django_capture_on_commit_callbacks(execute=True):
        full = admin.post("/sync/start", {"kind": "full"})
    with django_capture_on_commit_callbacks(execute=True):
        admin.post("/sync/start", {"kind": "incremental"})
    with django_capture_on_commit_callbacks(execute=True):
        bad = admin.post("/sync/start", {"kind": "everything"})
    assert bad.status_code == 302
    runs = list(SyncRun.objects.order_by("id"))
    assert [(r.kind, r.status, r.trigger, r.requested_by) for r in runs] == [
        ("full", "queued", "console", SUPER.login),
        ("incremental", "queued", "console", SUPER.login),
    ]
    assert (full.status_code, full["Location"]) == (302, f"/sync/{runs[0].pk}/")
    assert queued == [
        (
            "full",
            {"trigger": "console", "requested_by": SUPER.login, "run_id": runs[0].pk},
        ),
        (
            "incremental",
            {"trigger": "console", "requested_by": SUPER.login, "run_id": runs[1].pk},
        ),
    ]


def test_the_sync_page_names_who_pressed_sync_now(admin, db, monkeypatch):
    from grantsconsole.grants import services

    # The worker's side of "Sync now": the task runs with the admin's login.
    monkeypatch.setattr(tasks.full_sync_step, "delay", lambda *a, **kw: None)
    run_id = tasks.start_full_sync(trigger="console", requested_by=SUPER.login)
    services.fail_run(run_id, "stopped by the test")
    run = SyncRun.objects.get(pk=run_id)
    assert run.requested_by == SUPER.login
    for page in ("/sync/", f"/sync/{run_id}/"):
        body = admin.get(page).content.decode()
        assert "Requested by" in body
        assert "super.admin@example.com</td>" in body or (
            "<dd>super.admin@example.com</dd>" in body
        ), page


def test_run_detail_lists_per_app_errors(admin, db):
    run = SyncRun.objects.create(
        kind="full",
        status="partial",
        apps_failed=1,
        errors={
            "0oaBROKEN": "Okta had an internal error. Try again shortly. (HTTP 500)"
        },
    )
    body = admin.get(f"/sync/{run.pk}/").content.decode()
    assert "0oaBROKEN" in body
    assert "internal error" in body


def test_stale_banner_after_a_failed_sync(admin, db):
    ok = make_sync_run()
    assert "Stale since" not in admin.get("/apps/").content.decode()
    SyncRun.objects.create(
        kind="incremental",
        status="failed",
        finished_at=timezone.now(),
        message="Could not reach Okta. Check the network and the org URL.",
    )
    for url in ("/apps/", "/audit/", "/scopes/", "/sync/", "/reports/"):
        body = admin.get(url).content.decode()
        assert "Stale since" in body, url
        assert ok.finished_at.strftime("%Y-%m-%d %H:%M") in body
        assert "Could not reach Okta" in body


def test_reports_are_listed_viewed_and_exported(admin, mirrored, sim):
    from grantsconsole.grants.services import create_report

    app = web_app(sim, without="okta.users.manage")
    sim.oob_grant(app["id"], "okta.users.manage", actor_login=ORG_ADMIN.login)
    admin.post(f"/apps/{app['id']}/refresh")  # recorded as an external grant
    report = create_report(trigger="test")
    assert f"/reports/{report.pk}/" in admin.get("/reports/").content.decode()
    body = admin.get(f"/reports/{report.pk}/").content.decode()
    assert "Who holds the critical scopes" in body
    assert "Changes made outside the console (1)" in body
    assert "Granted in Okta (out of band)" in body
    exported = json.loads(admin.get(f"/reports/{report.pk}/export.json").content)
    assert exported == report.data
    csv_text = admin.get(f"/reports/{report.pk}/export.csv").content.decode()
    assert csv_text.startswith('"section",')
    assert "external_change" in csv_text


def test_unknown_report_sections_render_generically_and_escaped(admin, db):
    report = AuditReport.objects.create(
        period_start=timezone.now(),
        period_end=timezone.now(),
        data={"notes": [{"app": "<b>Payroll</b>", "scope": "okta.users.manage"}]},
    )
    body = admin.get(f"/reports/{report.pk}/").content.decode()
    assert "&lt;b&gt;Payroll&lt;/b&gt;" in body
    assert "<b>Payroll" not in body


def test_charts_are_valid_svg_with_the_numbers(admin, db):
    make_apps(12)
    for url in (
        "/reports/charts/grants-over-time.svg",
        "/reports/charts/top-manage-scopes.svg",
    ):
        response = admin.get(url)
        assert response["Content-Type"].startswith("image/svg+xml")
        root = ElementTree.fromstring(response.content)
        assert root.tag.endswith("svg")
    bars = admin.get("/reports/charts/top-manage-scopes.svg").content.decode()
    assert "okta.users.manage" in bars


def test_stale_banner_when_no_sync_succeeded_for_a_while(admin, db):
    from datetime import timedelta

    make_sync_run(finished_at=timezone.now() - timedelta(hours=2))
    body = admin.get("/apps/").content.decode()
    assert "Stale since" in body
    assert "the worker may be stopped" in body


def test_legacy_ssws_worker_credentials_are_flagged(admin, db, settings):
    assert "Legacy credentials" not in admin.get("/sync/").content.decode()
    settings.OKTA_WORKER_CLIENT_ID = ""
    settings.OKTA_SSWS_TOKEN = "00legacyTOKENnotshown0000000000000000000"
    body = admin.get("/sync/").content.decode()
    assert "Legacy credentials" in body
    assert "00legacyTOKEN" not in body


def test_sync_list_counts_the_grants_the_baseline_imported(admin, db):
    make_sync_run(
        baseline=True,
        grants_imported=312,
    )
    make_sync_run(grants_added=2)
    page = admin.get("/sync/").content.decode()
    assert page.count("baseline: 312 grants imported") == 1


def test_report_page_says_when_grant_data_is_not_current(admin, db):
    report = AuditReport.objects.create(
        period_start=timezone.now(),
        period_end=timezone.now(),
        data={
            "notice": "Grant data is unavailable or stale for 1 app.",
            "critical_holders": [
                {
                    "scope_id": "okta.users.manage",
                    "description": "",
                    "apps": [
                        {
                            "okta_id": "0oa1staleAPP000000x7",
                            "label": "Old Bot",
                            "since": "2026-01-01T00:00:00+00:00",
                            "granted_by": "",
                            "current": False,
                            "as_of": "2026-02-03T04:05:06+00:00",
                        }
                    ],
                }
            ],
            "grants_unavailable": [
                {
                    "okta_id": "0oa1staleAPP000000x7",
                    "label": "Old Bot",
                    "reason": "stale",
                    "error": "",
                    "as_of": "2026-02-03T04:05:06+00:00",
                }
            ],
        },
    )
    page = admin.get(f"/reports/{report.pk}/").content.decode()
    assert "Grant data is unavailable or stale for 1 app." in page
    assert "not current: last known as of" in page
    assert "Apps whose grant data is unavailable or stale (1)" in page
