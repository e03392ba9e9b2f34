"""Expiring grants: set an end time, and at the end the enforcer revokes (in a
worker only) or, without it, an alert and a one-click revoke for the next
Super Admin."""

from __future__ import annotations

import os
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from grantsconsole import okta_clients
from grantsconsole.celery import _worker_may_enforce
from grantsconsole.governance import expiry, plans, policies
from grantsconsole.governance.models import GrantRequest
from grantsconsole.grants.models import AuditEvent, ScopeGrant
from tests.console.conftest import okta_grants, web_app
from tests.factories import SUPER

SCOPE = "okta.users.read"
RAISE_ALERT = "grantsconsole.governance.alerting.raise_alert"
ENFORCER = "0oa1enforcerDEMO00x7"
DEMO_KEY = (
    django_settings.BASE_DIR / "grantsconsole" / "oktasim" / "seed" / "worker-key.pem"
)


@pytest.fixture
def held(mirrored, sim) -> ScopeGrant:
    app = web_app(sim, holding=SCOPE)
    return ScopeGrant.objects.get(
        app__okta_id=app["id"], scope_id=SCOPE, revoked_at=None
    )


@pytest.fixture
def enforcer(settings, monkeypatch):
    """The enforcer configured, with its key in the environment (as a
    deployment sets it for every process), in a process that is not a worker."""
    settings.ENFORCER_CLIENT_ID = ENFORCER
    monkeypatch.setenv("ENFORCER_PRIVATE_KEY", DEMO_KEY.read_text())
    monkeypatch.setattr(okta_clients, "_enforcer_process", False)
    okta_clients.forget_worker_clients()
    yield
    okta_clients.forget_worker_clients()


def test_an_end_time_is_set_from_the_app_page(admin, held):
    url = f"/apps/{held.app.okta_id}/grants/end-time"
    admin.post(url, {"scope": SCOPE, "ends_at": "2001-01-01T00:00"})
    held.refresh_from_db()
    assert held.ends_at is None  # in the past: refused
    admin.post(url, {"scope": SCOPE, "ends_at": "2099-05-01T12:30"})
    held.refresh_from_db()
    assert held.ends_at.isoformat() == "2099-05-01T12:30:00+00:00"
    row = AuditEvent.objects.get(action="end_time_set")
    assert (row.actor_login, row.scope_id) == (SUPER.login, SCOPE)
    page = admin.get(f"/apps/{held.app.okta_id}/?show=held").content.decode()
    assert "2099-05-01 12:30" in page


def test_without_the_enforcer_a_due_grant_is_alerted_once_and_offered_for_revoke(
    admin, held, sim
):
    held.ends_at = timezone.now() - timedelta(minutes=1)
    held.save()
    with mock.patch(RAISE_ALERT) as alert:
        assert expiry.enforce_expiries().alerted == 1
        assert expiry.enforce_expiries().alerted == 0  # once
    assert alert.call_args.args == ("grant_expiring",)
    assert alert.call_args.kwargs["scope_id"] == SCOPE
    assert AuditEvent.objects.filter(action="expiry_alerted").count() == 1
    assert SCOPE in okta_grants(sim, held.app.okta_id)  # nobody revoked it
    # the next Super Admin sees it on every page and revokes it in one click
    page = admin.get("/requests/").content.decode()
    assert 'id="grants-due"' in page
    assert f'value="{SCOPE}"' in page
    admin.post(
        f"/apps/{held.app.okta_id}/grants/revoke", {"only": SCOPE, "confirm": "yes"}
    )
    assert SCOPE not in okta_grants(sim, held.app.okta_id)


def test_a_grant_ending_soon_is_alerted_once(held, settings):
    settings.GRANT_EXPIRY_WARN_DAYS = 3
    held.ends_at = timezone.now() + timedelta(days=2)
    held.save()
    with mock.patch(RAISE_ALERT) as alert:
        assert expiry.enforce_expiries().warned == 1
        assert expiry.enforce_expiries().warned == 0
    assert "ends at" in alert.call_args.kwargs["title"]


def test_the_enforcer_revokes_due_grants_from_a_worker(held, sim, enforcer):
    held.ends_at = timezone.now() - timedelta(minutes=1)
    held.save()
    _worker_may_enforce(sender=None)  # a Celery worker's start-up (worker_init)
    run = expiry.enforce_expiries()
    assert (run.revoked, run.failed) == (1, 0)
    assert SCOPE not in okta_grants(sim, held.app.okta_id)
    held.refresh_from_db()
    assert held.revoked_at is not None
    enforced = AuditEvent.objects.get(action="expiry_enforced")
    assert (enforced.actor_id, enforced.outcome) == (ENFORCER, "success")
    revoke = AuditEvent.objects.get(action="revoke", scope_id=SCOPE)
    assert revoke.actor_id == ENFORCER


class _KeyGuard(dict):
    """The environment, refusing to hand out the enforcer's key."""

    def get(self, key, default=None):
        assert key != "ENFORCER_PRIVATE_KEY", "the enforcer's key was read"
        return super().get(key, default)

    def __getitem__(self, key):
        assert key != "ENFORCER_PRIVATE_KEY", "the enforcer's key was read"
        return super().__getitem__(key)


def test_a_web_process_never_loads_the_enforcers_key(held, enforcer, monkeypatch):
    assert not hasattr(django_settings, "ENFORCER_PRIVATE_KEY")
    held.ends_at = timezone.now() - timedelta(minutes=1)
    held.save()
    monkeypatch.setattr(okta_clients.os, "environ", _KeyGuard(os.environ))
    with pytest.raises(okta_clients.EnforcerUnavailable, match="never by a web"):
        expiry.enforce_expiries()
    assert held.app.grants.get(scope_id=SCOPE, revoked_at=None)


def test_production_refuses_the_demo_key_for_the_enforcer(enforcer, settings):
    settings.PRODUCTION = True
    _worker_may_enforce(sender=None)
    with pytest.raises(okta_clients.EnforcerUnavailable, match="demo org's key"):
        okta_clients.enforcer_client()


def test_the_enforcer_revokes_what_an_auto_remediate_rule_forbids(
    held, sim, enforcer, settings
):
    """Only rules marked auto_remediate, only with the enforcer, from a worker;
    the rule is named in the audit."""
    with mock.patch("grantsconsole.governance.alerting.raise_alert"):
        policies.save_from_console(
            "version: 1\nrules:\n"
            f"  - {{id: no-{SCOPE}, kind: forbid_scopes, scopes: [{SCOPE}],"
            " auto_remediate: true}\n",
            actor=SUPER.actor,
        )
    _worker_may_enforce(sender=None)
    # Without the enforcer nothing is revoked automatically.
    settings.ENFORCER_CLIENT_ID = ""
    assert plans.enforce_auto_remediations() == []
    assert SCOPE in okta_grants(sim, held.app.okta_id)
    settings.ENFORCER_CLIENT_ID = ENFORCER
    with mock.patch("grantsconsole.governance.alerting.raise_alert"):
        results = plans.enforce_auto_remediations()
    holders = ScopeGrant.objects.filter(scope_id=SCOPE).count()
    assert {(r.step.verb, r.step.scope_id, r.ok) for r in results} == {
        ("revoke", SCOPE, True)
    }
    assert len(results) == holders > 1  # every app of the org that held it
    assert SCOPE not in okta_grants(sim, held.app.okta_id)
    enforced = AuditEvent.objects.filter(action="policy_enforced")
    assert enforced.count() == holders
    assert {(e.actor_id, e.scope_id, e.outcome) for e in enforced} == {
        (ENFORCER, SCOPE, "success")
    }
    assert enforced.first().detail["rules"] == [f"no-{SCOPE}"]


def test_an_end_time_a_second_admin_approved_can_be_brought_forward_not_removed(
    held,
):
    approved_end = timezone.now() + timedelta(days=7)
    GrantRequest.objects.create(
        app=held.app,
        scope_id=SCOPE,
        requester_id="00uREQUESTER",
        requester_login="security.admin@example.com",
        justification="HR import",
        requested_ends_at=approved_end,
        state=GrantRequest.State.APPROVED,
        created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=7),
        decided_by_login=SUPER.login,
        decided_at=timezone.now(),
    )
    for later in (None, approved_end + timedelta(days=1)):
        with pytest.raises(expiry.EndTimeRefused, match="needs a new request"):
            expiry.set_end_time(held.app, SCOPE, later, SUPER.actor)
    earlier = approved_end - timedelta(days=2)
    assert expiry.set_end_time(held.app, SCOPE, earlier, SUPER.actor).ends_at == earlier
