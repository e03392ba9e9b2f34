"""The residual-window check after a revoke: the System Log's token issuance
events (``app.oauth2.token.grant.*`` with ``debugData.grantedScopes``) since the
revoke, for the app, with the revoked scope."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from grantsconsole.celery import app as celery_app
from grantsconsole.grants import audit, tasks
from grantsconsole.grants.models import AuditEvent, OktaApp
from grantsconsole.grants.services import app_tokens
from tests.console.conftest import mirror_org

WORKER = "0oa1workerDEMO0000x7"


@pytest.fixture
def worker_app(sim, db) -> OktaApp:
    mirror_org(sim)
    return OktaApp.objects.get(okta_id=WORKER)


def _revoke(app: OktaApp, scope_id: str) -> AuditEvent:
    return audit.record(
        "revoke", actor_login="super.admin@example.com", app=app, scope_id=scope_id
    )


def test_no_token_with_the_scope_since_closes_the_window(worker_app, worker_client):
    revoke = _revoke(worker_app, "okta.groups.read")  # not in the worker's tokens
    row = app_tokens.check_token_window(
        client=worker_client, app=worker_app, revoke=revoke
    )
    # The worker's own token (other scopes) was issued since: it does not count.
    assert (row.action, row.outcome) == ("token_window_check", "success")
    assert row.detail["verdict"] == (
        f"closed: no token with the scope issued since {revoke.created_at:%H:%M} UTC"
    )
    assert row.event_key == f"token-window:{revoke.seq}"


def test_a_token_with_the_scope_since_is_named(sim, worker_app, worker_client):
    revoke = _revoke(worker_app, "okta.logs.read")
    # The worker's first call mints its token, which carries okta.logs.read.
    row = app_tokens.check_token_window(
        client=worker_client, app=worker_app, revoke=revoke
    )
    assert row.outcome == "failure"
    assert row.detail["closed"] is False
    assert row.detail["event_uuid"] in row.detail["verdict"]
    assert "not closed: a token with the scope was issued at" in row.detail["verdict"]
    # Checking again records nothing new.
    again = app_tokens.check_token_window(
        client=worker_client, app=worker_app, revoke=revoke
    )
    assert again.seq == row.seq


def test_a_token_issued_before_the_revoke_does_not_count(worker_app, worker_client):
    worker_client.list_grants(WORKER)  # the token with okta.logs.read, minted now
    revoke = _revoke(worker_app, "okta.logs.read")
    row = app_tokens.check_token_window(
        client=worker_client, app=worker_app, revoke=revoke
    )
    assert row.outcome == "success"


def test_another_apps_token_does_not_count(sim, db, worker_client):
    mirror_org(sim)
    other = OktaApp.objects.get(label="Legacy CRM")
    revoke = _revoke(other, "okta.logs.read")
    row = app_tokens.check_token_window(client=worker_client, app=other, revoke=revoke)
    assert row.outcome == "success"


def test_task_records_a_refusal_as_not_checked(sim, worker_app, worker_client):
    revoke = _revoke(worker_app, "okta.groups.read")
    sim.fault("/api/v1/logs", status=403, times=-1)
    seq = tasks.check_token_window(revoke.seq)
    row = AuditEvent.objects.get(seq=seq)
    assert (row.action, row.outcome) == ("token_window_check", "skipped")
    assert row.detail["verdict"].startswith("not checked: ")
    assert tasks.check_token_window(revoke.seq) == seq
    assert tasks.check_token_window(999_999) is None


def test_task_retries_an_okta_outage_then_checks(sim, worker_app, worker_client):
    revoke = _revoke(worker_app, "okta.groups.read")
    # More 503s than the client's own repeats of a GET: the task must retry.
    sim.fault("/api/v1/logs", status=503, times=worker_client.transport.max_retries + 1)
    result = tasks.check_token_window.apply(args=[revoke.seq])
    row = AuditEvent.objects.get(action="token_window_check")
    assert (result.state, result.result) == ("SUCCESS", row.seq)
    assert row.outcome == "success"
    logs = [r["status"] for r in sim.requests() if r["path"] == "/api/v1/logs"]
    assert logs.count(503) == worker_client.transport.max_retries + 1
    assert logs[-1] == 200


# --- the sweep: checks whose countdown task was lost ------------------------------


def _window_passed() -> datetime:
    """A revoke time whose residual window (and grace) ended a second ago."""
    return (
        timezone.now()
        - app_tokens.lifetime()
        - timedelta(seconds=app_tokens.CHECK_GRACE_SECONDS + 1)
    )


def _tokens_revoked(app: OktaApp, revoke: AuditEvent) -> None:
    """The final row of the console's refresh-token revoke after ``revoke``,
    whose countdown check task never ran."""
    audit.record(
        "tokens_revoke",
        actor_login="super.admin@example.com",
        app=app,
        scope_id=revoke.scope_id,
        detail={"after_revoke_seq": revoke.seq},
    )


def _log_reads(sim) -> int:
    return sum(1 for r in sim.requests() if r["path"] == "/api/v1/logs")


def test_the_sweep_checks_a_lost_window_once(sim, worker_app, worker_client):
    lost = audit.record(
        "revoke",
        actor_login="super.admin@example.com",
        app=worker_app,
        scope_id="okta.groups.read",
        at=_window_passed(),
    )
    _tokens_revoked(worker_app, lost)
    # Not due: the window is still open; and a revoke whose tokens were not
    # revoked has no check to run.
    _tokens_revoked(worker_app, _revoke(worker_app, "okta.users.read"))
    audit.record(
        "revoke",
        actor_login="super.admin@example.com",
        app=worker_app,
        scope_id="okta.apps.read",
        at=_window_passed(),
    )

    (seq,) = tasks.sweep_token_windows()

    row = AuditEvent.objects.get(action="token_window_check")
    assert (row.seq, row.event_key, row.outcome) == (
        seq,
        f"token-window:{lost.seq}",
        "success",
    )
    rows, reads = AuditEvent.objects.count(), _log_reads(sim)
    assert tasks.sweep_token_windows() == []  # twice: still one row
    assert _log_reads(sim) == reads  # and no Okta call
    # The lost task, delivered late after all, finds the row instead of adding one.
    assert tasks.check_token_window(lost.seq) == seq
    assert AuditEvent.objects.count() == rows


def test_the_sweep_leaves_an_outage_for_next_time_and_records_a_refusal(
    sim, worker_app, worker_client
):
    lost = audit.record(
        "revoke",
        actor_login="super.admin@example.com",
        app=worker_app,
        scope_id="okta.groups.read",
        at=_window_passed(),
    )
    _tokens_revoked(worker_app, lost)
    sim.fault("/api/v1/logs", status=503, times=-1)
    assert tasks.sweep_token_windows() == []
    assert not AuditEvent.objects.filter(action="token_window_check").exists()
    sim.clear_faults()
    sim.fault("/api/v1/logs", status=403, times=-1)
    (seq,) = tasks.sweep_token_windows()
    row = AuditEvent.objects.get(seq=seq)
    assert (row.action, row.outcome) == ("token_window_check", "skipped")
    assert row.detail["verdict"].startswith("not checked: ")


def test_beat_runs_the_sweep():
    celery_app.finalize()  # the schedule is set when the app is finalized
    entry = celery_app.conf.beat_schedule["grants-token-window-sweep"]
    assert entry["task"] == tasks.sweep_token_windows.name
    assert entry["schedule"] <= 300
