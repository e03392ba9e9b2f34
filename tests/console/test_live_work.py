"""Live work in the browser, view side: "Sync now" shows the queued run and its
page follows it until it ends (elapsed time, apps read, Okta requests, who asked
for it); "Generate report now" queues the report and shows it arriving."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from grantsconsole.grants import services, tasks
from grantsconsole.grants.models import AuditReport, SyncRun
from grantsconsole.grants.services import full_sync, incremental_sync, sync_queue
from tests.factories import SUPER, make_sync_run

HTMX = {"HTTP_HX_REQUEST": "true"}
ISO_SECOND = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def _press_sync_now(admin, monkeypatch, capture, kind: str = "full") -> SyncRun:
    """POST "Sync now" with the task's ``delay`` caught (no worker runs it)."""
    task = tasks.start_full_sync if kind == "full" else tasks.incremental_sync
    monkeypatch.setattr(task, "delay", lambda **kw: None)
    with capture(execute=True):
        response = admin.post("/sync/start", {"kind": kind})
    run = SyncRun.objects.get()
    assert response["Location"] == f"/sync/{run.pk}/"
    return run


def test_sync_now_shows_the_queued_run_and_follows_it_until_it_ends(
    admin, sim, worker_client, monkeypatch, django_capture_on_commit_callbacks
):
    run = _press_sync_now(admin, monkeypatch, django_capture_on_commit_callbacks)
    page = admin.get(f"/sync/{run.pk}/").content.decode()
    assert "Waiting for a worker to start it" in page
    assert f"<dd>{SUPER.login}</dd>" in page  # who asked for it
    assert f'hx-get="/sync/{run.pk}/" hx-trigger="every 2s"' in page
    # the list shows it too, and polls while it waits
    listed = admin.get("/sync/").content.decode()
    assert f"sync #{run.pk}</a></strong> queued" in listed
    assert 'hx-trigger="every 2s"' in listed

    # The worker's side: the task starts the queued row, then runs its steps.
    monkeypatch.setattr(tasks.full_sync_step, "delay", lambda *a, **kw: None)
    assert tasks.start_full_sync(**{"trigger": "console", "run_id": run.pk}) == run.pk
    assert full_sync.full_sync_step(run.pk, 0, client=worker_client) == 1
    live = admin.get(f"/sync/{run.pk}/", **HTMX).content.decode()
    assert live.lstrip().startswith('<section id="sync-live"')
    assert "<html" not in live  # the fragment alone
    assert "hx-trigger" in live
    requests = SyncRun.objects.get(pk=run.pk).okta_requests
    assert requests > 0
    assert re.search(rf"Running for \d+ s: 0 apps read, {requests} Okta request", live)

    step: int | None = 1
    while step is not None:
        step = full_sync.full_sync_step(run.pk, step, client=worker_client)
    done = SyncRun.objects.get(pk=run.pk)
    assert (done.status, done.requested_by, done.trigger) == (
        "succeeded",
        SUPER.login,
        "console",
    )
    live = admin.get(f"/sync/{run.pk}/", **HTMX).content.decode()
    assert "hx-trigger" not in live  # polling stops
    assert re.search(r"Ended after \d+ (s|min): succeeded\.", live)
    assert f"<dd>{done.apps_done} of {done.apps_total}</dd>" in live
    assert f"<dd>{done.okta_requests}</dd>" in live
    assert re.search(rf'<time datetime="{ISO_SECOND}">{ISO_SECOND}</time>', live)


def test_a_queued_run_is_started_once_whatever_delivers_the_task(
    admin, sim, worker_client, monkeypatch, django_capture_on_commit_callbacks
):
    run = _press_sync_now(
        admin, monkeypatch, django_capture_on_commit_callbacks, "incremental"
    )
    make_sync_run()  # a baseline exists: this is a real incremental run
    assert tasks.incremental_sync(trigger="console", run_id=run.pk) == run.pk
    first = SyncRun.objects.get(pk=run.pk)
    assert (first.kind, first.status, first.requested_by) == (
        "incremental",
        "succeeded",
        SUPER.login,
    )
    before = len(sim.requests())
    # a twin delivery of the same task does nothing
    assert tasks.incremental_sync(trigger="console", run_id=run.pk) == run.pk
    assert SyncRun.objects.count() == 2
    assert SyncRun.objects.get(pk=run.pk).finished_at == first.finished_at
    assert sim.requests()[before:] == []


def test_a_queued_incremental_run_before_any_baseline_becomes_the_full_sync(
    admin, sim, worker_client, monkeypatch, django_capture_on_commit_callbacks
):
    run = _press_sync_now(
        admin, monkeypatch, django_capture_on_commit_callbacks, "incremental"
    )
    monkeypatch.setattr(tasks.full_sync_step, "delay", lambda *a, **kw: None)
    assert tasks.incremental_sync(trigger="console", run_id=run.pk) == run.pk
    started = SyncRun.objects.get()
    assert (started.pk, started.kind, started.status, started.baseline) == (
        run.pk,
        "full",
        "running",
        True,
    )
    assert started.requested_by == SUPER.login


def test_a_queued_run_no_worker_starts_ends_failed_and_says_why(db):
    stuck = sync_queue.queue_sync("full", requested_by=SUPER.login)
    fresh = sync_queue.queue_sync("incremental", requested_by=SUPER.login)
    SyncRun.objects.filter(pk=stuck.pk).update(
        started_at=timezone.now() - sync_queue.QUEUE_WAIT - timedelta(seconds=1)
    )
    tasks.sync_watchdog()
    stuck.refresh_from_db()
    assert stuck.status == "failed"
    assert "No worker started this sync within 15 minutes" in stuck.message
    assert SyncRun.objects.get(pk=fresh.pk).status == "queued"
    with pytest.raises(sync_queue.NotQueued):
        services.start_full_sync(trigger="console", run_id=stuck.pk)


def test_an_incremental_run_records_its_okta_requests_while_it_runs(
    db, sim, worker_client, monkeypatch
):
    make_sync_run()
    seen: list[int] = []
    acquire = incremental_sync.locks.acquire

    def watch(name, owner, ttl):
        # called after each page's progress update, and once at the start
        seen.extend(
            SyncRun.objects.filter(kind="incremental").values_list(
                "okta_requests", flat=True
            )
        )
        return acquire(name, owner, ttl)

    monkeypatch.setattr(incremental_sync.locks, "acquire", watch)
    run = services.run_incremental_sync(client=worker_client, trigger="test")
    assert run.okta_requests > 0
    assert max(seen) > 0  # visible before the run ended


def test_generate_report_now_queues_the_report_and_shows_it_arriving(
    admin, db, monkeypatch, django_capture_on_commit_callbacks
):
    older = AuditReport.objects.create(
        period_start=timezone.now(), period_end=timezone.now(), data={}
    )
    queued: list[dict] = []
    monkeypatch.setattr(tasks.audit_report, "delay", lambda **kw: queued.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/reports/generate")
    assert response["Location"] == f"/reports/?after={older.pk}"
    assert queued == [{"trigger": "console"}]
    waiting = admin.get(response["Location"]).content.decode()
    assert "Generating the report" in waiting
    assert f'hx-get="/reports/?after={older.pk}" hx-trigger="every 2s"' in waiting
    assert "A report was queued" in waiting

    report_id = tasks.audit_report(**queued[0])  # what the worker runs
    arrived = admin.get(response["Location"], **HTMX).content.decode()
    assert arrived.lstrip().startswith('<section id="report-arriving"')
    assert "hx-trigger" not in arrived  # polling stops
    assert f'href="/reports/{report_id}/"' in arrived
    # the list of stored reports below is swapped too: it lists the new one
    stored = arrived.split('<div class="table-wrap" id="stored-reports" hx-swap-oob')[1]
    assert f'href="/reports/{report_id}/export.csv"' in stored
    assert "No report yet" not in stored
    page = admin.get(response["Location"]).content.decode()  # reloaded
    assert page.count('id="stored-reports"') == 1
    assert AuditReport.objects.get(pk=report_id).trigger == "console"


def test_generate_report_now_is_a_super_admin_post_with_csrf(
    admin, admin_csrf, sim, db, monkeypatch
):
    monkeypatch.setattr(tasks.audit_report, "delay", lambda **kw: None)
    assert admin.get("/reports/generate").status_code == 405
    assert admin_csrf.post("/reports/generate").status_code == 403  # no CSRF token
    sim.set_roles(SUPER.login, ["READ_ONLY_ADMIN"])  # writes always re-check
    assert admin.post("/reports/generate").status_code == 403
    assert not AuditReport.objects.exists()


def test_sync_and_reports_pages_show_times_to_the_second_in_iso_8601(admin, db):
    run = make_sync_run(finished_at=timezone.now().replace(microsecond=0))
    AuditReport.objects.create(
        period_start=timezone.now(), period_end=timezone.now(), data={}
    )
    stamp = run.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    for url in ("/sync/", f"/sync/{run.pk}/"):
        assert f">{stamp}</time>" in admin.get(url).content.decode(), url
    reports = admin.get("/reports/").content.decode()
    assert re.search(rf"Report #\d+ of <time datetime=\"{ISO_SECOND}\">", reports)
    assert re.search(ISO_SECOND + " \N{EN DASH} " + ISO_SECOND, reports)
