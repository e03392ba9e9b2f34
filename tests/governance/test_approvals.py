"""Two-person approval: the gate on every grant path, the request form, and
approve / deny / expire, with the grant made by the approver's own token."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from grantsconsole.governance import approvals
from grantsconsole.governance.models import GrantRequest
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import AuditEvent, OktaApp, ScopeGrant
from grantsconsole.grants.services import scope_writes
from grantsconsole.okta import OktaClient
from tests.console.conftest import grant_writes, okta_grants, web_app
from tests.factories import ORG_ADMIN, SUPER, make_app
from tests.governance.conftest import CRITICAL

HIGH = "okta.devices.manage"


@pytest.mark.parametrize(
    ("threshold", "scope", "gated"),
    [
        ("critical", CRITICAL, True),
        ("critical", HIGH, False),
        ("high", HIGH, True),
        ("high", "okta.groups.read", False),
        ("off", CRITICAL, False),
    ],
)
def test_the_gate_stops_grants_at_or_above_the_threshold(
    db, settings, threshold, scope, gated
):
    settings.APPROVAL_MIN_RISK = threshold
    client = mock.Mock(spec=OktaClient)
    client.grant_scope.side_effect = AssertionError("not this far")
    call = lambda: scope_writes.write_scopes(  # noqa: E731
        "grant", client=client, app=make_app(), scope_ids=[scope], actor=SUPER.actor
    )
    if gated:
        with pytest.raises(scope_writes.ApprovalRequired) as refused:
            call()
        assert refused.value.scope_ids == [scope]
        assert not AuditEvent.objects.exists()  # not even an intent
    else:
        with pytest.raises(AssertionError, match="not this far"):
            call()


def test_a_console_grant_of_a_critical_scope_becomes_a_request(admin, mirrored, sim):
    app = web_app(sim, without=CRITICAL)
    asked = admin.post(
        f"/apps/{app['id']}/grants/grant", {"only": CRITICAL, "confirm": "yes"}
    )
    assert asked.status_code == 302
    assert asked["Location"] == f"/requests/new?app={app['id']}&scope={CRITICAL}"
    assert grant_writes(sim) == []
    form = admin.get(asked["Location"]).content.decode()
    assert f'name="scope" value="{CRITICAL}"' in form
    assert "nothing was granted" in form

    blank = admin.post("/requests/new", {"app": app["id"], "scope": CRITICAL})
    assert blank.status_code == 400
    for bad_end in ("next tuesday", "2001-01-01T00:00"):
        refused = admin.post(
            "/requests/new",
            {
                "app": app["id"],
                "scope": CRITICAL,
                "justification": "x",
                "ends_at": bad_end,
            },
        )
        assert refused.status_code == 400
        assert "Nothing was requested." in refused.content.decode()
    assert not GrantRequest.objects.exists()

    sent = admin.post(
        "/requests/new",
        {"app": app["id"], "scope": CRITICAL, "justification": "HR sync"},
    )
    assert sent.status_code == 302
    request = GrantRequest.objects.get()
    assert (request.state, request.requester_login) == ("pending", SUPER.login)
    assert request.expires_at - request.created_at == timedelta(days=7)
    opened = AuditEvent.objects.get(action="request_opened")
    assert opened.actor_login == SUPER.login
    assert opened.detail["justification"] == "HR sync"
    assert grant_writes(sim) == []


def test_a_bulk_grant_of_a_critical_scope_becomes_a_request(admin, mirrored, sim):
    app = web_app(sim, without=CRITICAL)
    asked = admin.post(f"/scopes/{CRITICAL}/grant", {"app": [app["id"]]})
    assert asked["Location"] == f"/requests/new?app={app['id']}&scope={CRITICAL}"
    assert grant_writes(sim) == []


def _request(app_id: str, **fields) -> GrantRequest:
    app = OktaApp.objects.get(okta_id=app_id)
    return approvals.open_request(
        app, CRITICAL, SUPER.actor, "needed for the HR sync", **fields
    )


def test_the_requester_cannot_approve_their_own_request(admin, mirrored, sim):
    request = _request(web_app(sim, without=CRITICAL)["id"])
    response = admin.post(f"/requests/{request.pk}/approve", follow=True)
    assert "another Super Admin must decide" in response.content.decode()
    assert grant_writes(sim) == []
    request.refresh_from_db()
    assert request.state == "pending"
    assert not AuditEvent.objects.filter(action="request_approved").exists()


def test_a_request_opened_by_login_alone_cannot_be_approved_by_that_person(
    admin, mirrored, sim
):
    """A requester known only by login (no Okta user id) is still the requester."""
    app = OktaApp.objects.get(okta_id=web_app(sim, without=CRITICAL)["id"])
    request = approvals.open_request(
        app, CRITICAL, Actor("", SUPER.login.upper()), "needed"
    )
    response = admin.post(f"/requests/{request.pk}/approve", follow=True)
    assert "another Super Admin must decide" in response.content.decode()
    assert grant_writes(sim) == []


def test_a_request_whose_end_time_has_passed_is_not_granted(approver, mirrored, sim):
    request = _request(
        web_app(sim, without=CRITICAL)["id"],
        ends_at=timezone.now() + timedelta(minutes=5),
    )
    GrantRequest.objects.filter(pk=request.pk).update(
        requested_ends_at=timezone.now() - timedelta(minutes=1)
    )
    response = approver.post(f"/requests/{request.pk}/approve", follow=True)
    assert "asked for has passed" in response.content.decode()
    assert grant_writes(sim) == []


def test_an_approval_grants_with_the_approvers_token(
    approver, mirrored, sim, worker_client
):
    app = web_app(sim, without=CRITICAL)
    ends = timezone.now() + timedelta(days=30)
    request = _request(app["id"], ends_at=ends)
    answer = approver.post(f"/requests/{request.pk}/approve")
    assert answer.status_code == 302
    assert CRITICAL in okta_grants(sim, app["id"])
    request.refresh_from_db()
    assert (request.state, request.decided_by_login) == ("approved", ORG_ADMIN.login)
    # Okta's System Log names the approver, not the requester
    events = worker_client.poll_logs(
        None, filter='eventType eq "app.oauth2.admin.consent.grant"'
    ).events
    assert events[-1].actor_alternate_id == ORG_ADMIN.login
    # the audit names both people
    grant = AuditEvent.objects.get(action="grant", scope_id=CRITICAL)
    assert grant.actor_login == ORG_ADMIN.login
    assert grant.detail["requested_by_login"] == SUPER.login
    assert grant.detail["approved_request"] == request.pk
    decided = AuditEvent.objects.get(action="request_approved")
    assert (decided.actor_login, decided.outcome) == (ORG_ADMIN.login, "success")
    assert decided.detail["requested_by_login"] == SUPER.login
    held = ScopeGrant.objects.get(app__okta_id=app["id"], scope_id=CRITICAL)
    assert held.ends_at == request.requested_ends_at


def test_approving_a_grant_the_app_already_holds_is_success(approver, mirrored, sim):
    app = web_app(sim, holding=CRITICAL)
    request = _request(app["id"])
    approver.post(f"/requests/{request.pk}/approve")
    request.refresh_from_db()
    assert request.state == "approved"


def test_approving_for_an_app_deleted_in_okta_is_reported(approver, mirrored, sim):
    app = web_app(sim, without=CRITICAL)
    request = _request(app["id"])
    sim.oob_app("deactivate", app_id=app["id"])
    sim.oob_app("delete", app_id=app["id"])
    response = approver.post(f"/requests/{request.pk}/approve", follow=True)
    assert "was deleted from Okta" in response.content.decode()
    request.refresh_from_db()
    assert request.state == "failed"
    assert "deleted" in request.reason
    decided = AuditEvent.objects.get(action="request_approved")
    assert decided.outcome == "failure"
    assert not ScopeGrant.objects.filter(
        app__okta_id=app["id"], scope_id=CRITICAL
    ).exists()


def test_a_deny_is_recorded_and_grants_nothing(approver, mirrored, sim):
    request = _request(web_app(sim, without=CRITICAL)["id"])
    approver.post(f"/requests/{request.pk}/deny", {"reason": "use a read scope"})
    request.refresh_from_db()
    assert (request.state, request.reason) == ("denied", "use a read scope")
    assert AuditEvent.objects.get(action="request_denied").actor_login == (
        ORG_ADMIN.login
    )
    assert grant_writes(sim) == []


def test_requests_expire_and_cannot_be_approved_then(approver, mirrored, sim):
    request = _request(web_app(sim, without=CRITICAL)["id"])
    assert approvals.expire_requests(timezone.now()) == 0
    later = request.expires_at + timedelta(seconds=1)
    assert approvals.expire_requests(later) == 1
    request.refresh_from_db()
    assert request.state == "expired"
    assert AuditEvent.objects.filter(action="request_expired").count() == 1
    response = approver.post(f"/requests/{request.pk}/approve", follow=True)
    assert "already expired" in response.content.decode()
    assert grant_writes(sim) == []


def test_the_queue_and_my_requests(admin, approver, mirrored, sim):
    app = web_app(sim, without=CRITICAL)
    _request(app["id"])
    # a demand signal links to the form prefilled with the app and scope
    prefilled = admin.get(f"/requests/new?app={app['id']}&scope=okta.groups.manage")
    assert 'value="okta.groups.manage"' in prefilled.content.decode()
    mine = admin.get("/requests/").content.decode()
    assert "Waiting for you (0)" in mine
    assert "pending" in mine
    queue = approver.get("/requests/").content.decode()
    assert "Waiting for you (1)" in queue
    assert "Approve and grant" in queue
    assert 'id="nav-pending">1<' in queue


def test_the_gate_is_on_for_critical_scopes_by_default():
    """The suite runs with APPROVAL_MIN_RISK=off (tests/conftest.py); a fresh
    checkout without the variable gates critical grants."""
    env = {k: v for k, v in os.environ.items() if k != "APPROVAL_MIN_RISK"}
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import grantsconsole.settings as s;print(s.APPROVAL_MIN_RISK)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert shown.stdout.strip() == "critical"


def test_a_bulk_grant_past_one_requests_size_says_so(admin, mirrored, sim, monkeypatch):
    monkeypatch.setattr("grantsconsole.console.views.requests.MAX_PAIRS", 1)
    apps = list(OktaApp.objects.values_list("okta_id", flat=True)[:2])
    asked = admin.post(f"/scopes/{CRITICAL}/grant", {"app": apps}, follow=True)
    assert "select fewer" in asked.content.decode()
    assert grant_writes(sim) == []
    assert not GrantRequest.objects.exists()
