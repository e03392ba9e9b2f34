"""Where alerts come from today: grants and revokes made outside the console
(the incremental sync), a failed audit verification, and a silent worker."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from grantsconsole import celery_app
from grantsconsole.governance import approvals, tasks, watch
from grantsconsole.governance.alerts_models import Alert, AlertDestination
from grantsconsole.governance.approvals_models import GrantRequest
from grantsconsole.grants import audit, services
from grantsconsole.grants.models import OktaApp, SyncRun
from grantsconsole.okta.models import parse_log_event
from tests.factories import ORG_ADMIN, SUPER, make_sync_run
from tests.grants.helpers import app_with_grants, app_without, tamper

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued():
    with mock.patch.object(tasks.deliver_alert, "apply_async") as send:
        yield send


def test_out_of_band_grants_and_revokes_raise_alerts_with_actor_app_scope_and_ip(
    sim, worker_client, full_synced, queued, django_capture_on_commit_callbacks
):
    AlertDestination.objects.create(
        name="Mailbox", kind="email", emails="sec@example.com", min_risk="low"
    )
    holder = app_with_grants(sim)
    revoked_scope = holder["grants"][0]["scopeId"]
    target = app_without(sim, "okta.users.manage")
    sim.oob_grant(target["id"], "okta.users.manage", actor_login=SUPER.login)
    sim.oob_revoke(holder["id"], revoked_scope, actor_login=ORG_ADMIN.login)
    assert not Alert.objects.exists()  # the baseline raised none

    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_incremental_sync(client=worker_client)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    granted = Alert.objects.get(kind="out_of_band_change", details__change="granted")
    assert (granted.app.okta_id, granted.scope_id) == (
        target["id"],
        "okta.users.manage",
    )
    assert granted.risk == "critical"
    assert granted.details["actor"] == SUPER.login
    assert granted.details["source_ip"] == "127.0.0.1"  # the simulator's client
    assert granted.details["approved_by_request"] is False
    assert SUPER.login in granted.title
    revoked = Alert.objects.get(kind="out_of_band_change", details__change="revoked")
    assert (revoked.app.okta_id, revoked.scope_id) == (holder["id"], revoked_scope)
    assert revoked.details["actor"] == ORG_ADMIN.login
    assert queued.call_count == 2  # one delivery each, to the one destination
    # A second poll finds nothing new and raises nothing.
    services.run_incremental_sync(client=worker_client)
    assert Alert.objects.count() == 2


def test_an_out_of_band_grant_that_a_request_approved_says_so(
    sim, worker_client, full_synced, queued
):
    """Approved here, then granted in Okta's Admin Console: the alert says a
    request approved it; the same grant without one says it was not."""
    approved = app_without(sim, "okta.users.manage")
    unapproved = app_without(sim, "okta.users.manage", skip={approved["id"]})
    request = approvals.open_request(
        OktaApp.objects.get(okta_id=approved["id"]),
        "okta.users.manage",
        ORG_ADMIN.actor,
        "nightly user import",
    )
    GrantRequest.objects.filter(pk=request.pk).update(
        state=GrantRequest.State.APPROVED,
        decided_by_login=SUPER.login,
        decided_at=timezone.now(),
    )
    for app in (approved, unapproved):
        sim.oob_grant(app["id"], "okta.users.manage", actor_login=SUPER.login)

    services.run_incremental_sync(client=worker_client)

    covered = {
        a.app.okta_id: a.details["approved_by_request"]
        for a in Alert.objects.filter(kind="out_of_band_change")
    }
    assert covered == {approved["id"]: True, unapproved["id"]: False}


def test_the_log_events_source_ip_is_read_defensively():
    event = {
        "uuid": "e1",
        "published": "2026-12-07T00:00:00.000Z",
        "eventType": "app.oauth2.admin.consent.grant",
        "client": {"ipAddress": "203.0.113.9"},
    }
    assert parse_log_event(event).ip_address == "203.0.113.9"
    assert parse_log_event({**event, "client": {"ipAddress": 7}}).ip_address == ""
    assert parse_log_event({**event, "client": "x"}).ip_address == ""
    assert parse_log_event({**event, "client": None}).ip_address == ""


def test_a_failed_audit_verification_raises_one_critical_alert_per_break():
    for i in range(4):
        audit.record("sync", detail={"i": i})
    tamper("UPDATE grants_auditevent SET outcome = 'failure' WHERE seq = 2")
    services.verify_audit_trail(trigger="beat")
    services.verify_audit_trail(trigger="beat")
    (alert,) = Alert.objects.filter(kind="audit_verification_failed")
    assert alert.risk == "critical"
    assert "audit row seq 2" in alert.title
    assert alert.details["kind"] == "row edited (row_hash)"


def test_a_worker_silent_too_long_raises_one_alert(settings):
    settings.SYNC_INCREMENTAL_EVERY = 60
    assert watch.check_worker() is None  # nothing ever ran: a fresh install
    make_sync_run(finished_at=timezone.now() - timedelta(minutes=9))
    assert watch.check_worker() is None
    make_sync_run(
        kind="incremental",
        status="failed",
        message="Okta refused the worker's token",
        finished_at=timezone.now(),
    )
    SyncRun.objects.filter(status="succeeded").update(
        finished_at=timezone.now() - timedelta(minutes=11)
    )
    alert = watch.check_worker()
    assert alert.kind == "worker_unhealthy"
    assert alert.details["latest_run_message"] == "Okta refused the worker's token"
    assert watch.check_worker() == alert  # once per silence
    make_sync_run()
    assert watch.check_worker() is None


def test_the_readiness_probe_and_beat_watch_the_worker(settings):
    make_sync_run(finished_at=timezone.now() - timedelta(hours=1))
    assert Client().get("/readyz").status_code in (200, 503)
    assert Alert.objects.filter(kind="worker_unhealthy").count() == 1
    celery_app.loader.import_default_modules()
    entry = celery_app.conf.beat_schedule["governance-watch-worker"]
    assert entry["task"] == "governance.watch_worker"
