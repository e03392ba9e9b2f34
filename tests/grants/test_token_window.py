"""The residual-window check after a revoke: the System Log's token issuance
events (``app.oauth2.token.grant.*`` with ``debugData.grantedScopes``) since the
revoke, for the app, with the revoked scope."""

from __future__ import annotations

import pytest

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
