"""Celery tasks run eagerly: they call the services, start the first baseline,
retry on rate limits, and the watchdog resumes a stalled full sync."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from grantsconsole import celery_app
from grantsconsole.grants import tasks
from grantsconsole.grants.models import SyncRun
from grantsconsole.grants.services import full_sync
from grantsconsole.okta import OktaClient
from tests.grants.helpers import db_state, okta_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager(worker_client):
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_the_first_incremental_poll_starts_a_full_sync(sim, eager):
    run_id = tasks.incremental_sync.delay(trigger="beat").get()
    run = SyncRun.objects.get(pk=run_id)
    assert run.kind == SyncRun.Kind.FULL
    assert run.status == SyncRun.Status.SUCCEEDED
    assert db_state() == okta_state(sim)
    # With a baseline, the next poll is an incremental sync.
    next_id = tasks.incremental_sync.delay(trigger="beat").get()
    assert SyncRun.objects.get(pk=next_id).kind == SyncRun.Kind.INCREMENTAL


def test_a_rate_limited_step_is_retried(sim, eager):
    # One-second windows keep the waits short; the listing answers 429 more
    # often than the client retries by itself, so the task retries the step.
    sim.set_rate_limit("apps", 100_000, window_seconds=1)
    sim.fault(path="/api/v1/apps$", method="GET", times=5, status=429)
    run_id = tasks.start_full_sync.delay(trigger="test").get()
    run = SyncRun.objects.get(pk=run_id)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    listing = [r for r in sim.requests() if r["path"] == "/api/v1/apps"]
    assert [r["status"] for r in listing][:6] == [429] * 5 + [200]
    assert db_state() == okta_state(sim)


def test_the_watchdog_resumes_a_stalled_full_sync(sim, worker_client, eager):
    run = full_sync.start_full_sync(trigger="test")
    assert full_sync.full_sync_step(run.pk, 0, client=worker_client) == 1
    # The worker died after step 0 without queueing step 1.
    SyncRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=full_sync.STALL_SECONDS + 5)
    )
    assert tasks.sync_watchdog.delay().get() == [run.pk]
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert db_state() == okta_state(sim)
    assert tasks.sync_watchdog.delay().get() == []


def test_the_audit_report_task_stores_a_report(sim, eager):
    from grantsconsole.grants.models import AuditReport

    report_id = tasks.audit_report.delay(trigger="beat").get()
    assert AuditReport.objects.get(pk=report_id).trigger == "beat"


def test_the_beat_schedule_comes_from_settings(settings):
    celery_app.finalize()  # the schedule is set when the app is finalized
    schedule = celery_app.conf.beat_schedule
    assert schedule["grants-incremental-sync"]["schedule"] == float(
        settings.SYNC_INCREMENTAL_EVERY
    )
    assert schedule["grants-full-sync"]["schedule"] == float(settings.SYNC_FULL_EVERY)
    assert schedule["grants-audit-report"]["schedule"].hour == {
        settings.AUDIT_REPORT_HOUR
    }


def test_a_step_out_of_retries_ends_the_run_partial_with_what_it_read(
    sim, worker_client, eager, monkeypatch
):
    """Okta failing for longer than the task's retries: the run keeps the apps
    it read and lists the others, instead of failing outright."""
    full_sync.run_full_sync(client=worker_client)
    apps = sorted(db_state())
    sim.fault(
        f"/api/v1/apps/({'|'.join(apps[5:])})/grants$",
        method="GET",
        times=-1,
        status=503,
    )
    impatient = OktaClient(sim.url, worker_client.token_source, max_retries=0)
    monkeypatch.setattr(tasks, "worker_client", lambda: impatient)
    monkeypatch.setattr(tasks, "STEP_MAX_RETRIES", 1)

    run_id = tasks.start_full_sync.delay(trigger="test").get()

    run = SyncRun.objects.get(pk=run_id)
    assert run.status == SyncRun.Status.PARTIAL, run.message
    assert sorted(run.errors) == apps[5:]
    assert run.apps_done == 5
