"""App owners: the default (the admin who granted the riskiest scope), an
assigned owner kept, orphaning from the System Log, and the owner form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from grantsconsole.governance import owners
from grantsconsole.governance.owners_models import AppOwner
from grantsconsole.grants import audit, signals
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import AuditEvent, LogCursor
from grantsconsole.grants.services import incremental_sync
from grantsconsole.okta.models import LogEvent, LogPage, LogTarget
from tests.factories import (
    APP_ADMIN,
    END_USER,
    ORG_ADMIN,
    SUPER,
    make_app,
    make_grant,
)

pytestmark = pytest.mark.django_db

ALERT = "grantsconsole.governance.alerting.raise_alert"


def test_the_default_owner_granted_the_riskiest_scope():
    app = make_app()
    make_grant(app, "okta.users.read", by=ORG_ADMIN, granted_by=ORG_ADMIN.login)
    make_grant(app, "okta.users.manage", by=SUPER, granted_by=SUPER.login)
    make_grant(app, "okta.groups.read", by=APP_ADMIN, granted_by=APP_ADMIN.login)
    owner = owners.refresh_owner(app)
    assert (owner.login, owner.okta_user_id, owner.source) == (
        SUPER.login,
        SUPER.okta_id,
        "default",
    )
    row = AuditEvent.objects.get(action="owner_assigned")
    assert (row.scope_id, row.detail["owner"]) == ("okta.users.manage", SUPER.login)


def test_a_granter_known_only_by_id_is_named_from_the_audit():
    app = make_app()
    make_grant(app, "okta.users.manage", by=ORG_ADMIN, granted_by="")
    # No directory row: the audit's last row by that id names the login.
    audit.record("sign_in", **ORG_ADMIN.actor.fields)
    owner = owners.refresh_owner(app)
    assert (owner.login, owner.okta_user_id) == (ORG_ADMIN.login, ORG_ADMIN.okta_id)


def test_the_default_owner_follows_the_grants_but_an_assigned_one_stays():
    app = make_app()
    riskiest = make_grant(app, "okta.users.manage", granted_by=SUPER.login)
    make_grant(app, "okta.groups.read", by=ORG_ADMIN, granted_by=ORG_ADMIN.login)
    assert owners.refresh_owner(app).login == SUPER.login
    riskiest.revoked_at = timezone.now()
    riskiest.save()
    signals.grants_changed.send(sender=None, app=app, baseline=False)
    assert AppOwner.objects.get(app=app).login == ORG_ADMIN.login
    owners.assign_owner(
        app, owners.Person(APP_ADMIN.okta_id, APP_ADMIN.login), actor=SUPER.actor
    )
    make_grant(app, "okta.roles.manage", granted_by=SUPER.login)
    signals.grants_changed.send(sender=None, app=app, baseline=False)
    owner = AppOwner.objects.get(app=app)
    assert (owner.login, owner.source, owner.assigned_by) == (
        APP_ADMIN.login,
        "assigned",
        SUPER.login,
    )
    assert [
        e.detail["source"]
        for e in AuditEvent.objects.filter(action="owner_assigned").order_by("seq")
    ] == ["default", "default", "assigned"]


def test_the_console_write_path_sets_the_owner(sim, admin_okta, settings):
    """A console grant (scope_writes) tells governance: the new app has an
    owner at once, the admin who granted it."""
    settings.APPROVAL_MIN_RISK = "off"  # a critical grant in one step
    from grantsconsole.grants.services import scope_writes
    from tests.console.conftest import web_app

    okta_app = web_app(sim, without="okta.users.manage")
    app = make_app(okta_app["id"])
    (result,) = scope_writes.write_scopes(
        "grant",
        client=admin_okta,
        app=app,
        scope_ids=["okta.users.manage"],
        actor=SUPER.actor,
    )
    assert result.ok
    assert AppOwner.objects.get(app=app).login == SUPER.login


def _deactivation(user_id: str, login: str) -> LogEvent:
    return LogEvent(
        uuid="evt-deactivate-1",
        published=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        event_type="user.lifecycle.deactivate",
        actor_id=SUPER.okta_id,
        actor_type="User",
        actor_alternate_id=SUPER.login,
        actor_display_name="Super Admin",
        targets=(LogTarget(user_id, "User", login, "Org Admin"),),
        outcome_result="SUCCESS",
        request_id="req-1",
    )


class _LogOnly:
    """An Okta client that serves one System Log page and nothing else."""

    request_count = 0

    def __init__(self, events):
        self.pages = [LogPage(tuple(events), "http://okta.test/api/v1/logs?after=1")]
        self.filters = []

    def poll_logs(self, next_url, *, since=None, filter=None, limit=None):
        self.filters.append(filter)
        return self.pages.pop(0) if self.pages else LogPage((), next_url)


def test_a_deactivated_owner_orphans_their_apps_once():
    owned, other = make_app("0oaOWNED000000000001"), make_app("0oaOTHER000000000002")
    make_grant(owned, "okta.users.manage", by=ORG_ADMIN, granted_by=ORG_ADMIN.login)
    make_grant(other, "okta.users.manage", granted_by=SUPER.login)
    owners.refresh_owners()
    LogCursor.objects.create(
        name=incremental_sync.CURSOR_NAME, next_url="http://okta.test/api/v1/logs"
    )
    client = _LogOnly([_deactivation(ORG_ADMIN.okta_id, ORG_ADMIN.login)])
    with mock.patch(ALERT) as alert:
        run = incremental_sync.run_incremental_sync(client=client)
        assert run.status == "succeeded", run.message
        # The same event again (a page read twice after a crash): nothing new.
        owners.orphan(
            ORG_ADMIN.okta_id,
            ORG_ADMIN.login,
            at=timezone.now(),
            event_uuid="evt-deactivate-1",
        )
    assert 'eventType eq "user.lifecycle.deactivate"' in client.filters[0]
    orphaned = AppOwner.objects.get(app=owned)
    assert orphaned.orphaned_at == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert AppOwner.objects.get(app=other).orphaned_at is None
    assert list(owners.orphaned_owners()) == [orphaned]
    (row,) = AuditEvent.objects.filter(action="owner_orphaned")
    assert (row.app_id, row.detail["owner"]) == (owned.pk, ORG_ADMIN.login)
    alert.assert_called_once()
    assert alert.call_args.args == ("owner_orphaned",)
    assert alert.call_args.kwargs["app"] == owned
    assert alert.call_args.kwargs["risk"] == "critical"


def test_the_app_page_shows_the_owner_and_the_orphaned_badge(
    signed_in_as, mirrored, sim
):
    from grantsconsole.grants.models import OktaApp

    app = OktaApp.objects.filter(grant_count__gt=0).first()
    client = signed_in_as(SUPER)
    page = client.get(f"/apps/{app.okta_id}/").content.decode()
    assert '<span class="muted" id="app-owner">none yet</span>' in page
    owners.assign_owner(
        app, owners.Person(ORG_ADMIN.okta_id, ORG_ADMIN.login), actor=SUPER.actor
    )
    with mock.patch(ALERT):
        owners.orphan(ORG_ADMIN.okta_id, "", at=timezone.now(), event_uuid="e1")
    page = client.get(f"/apps/{app.okta_id}/").content.decode()
    assert f'<span id="app-owner">{ORG_ADMIN.login}</span>' in page
    assert 'id="owner-orphaned"' in page
    listing = client.get("/attestation/").content.decode()
    assert app.label in listing.split('id="orphaned-apps"')[1]


def test_a_super_admin_sets_the_owner_by_typed_login_checked_with_okta(
    signed_in_as, mirrored, sim, worker
):
    from grantsconsole.grants.models import OktaApp

    app = OktaApp.objects.filter(grant_count__gt=0).first()
    client = signed_in_as(SUPER)
    refused = client.post(
        f"/apps/{app.okta_id}/owner/set", {"login": "nobody@example.com"}, follow=True
    )
    assert "Okta has no user nobody@example.com." in refused.content.decode()
    assert not AppOwner.objects.filter(app=app, source="assigned").exists()
    sim.oob_user_deactivate(END_USER.login)
    gone = client.post(
        f"/apps/{app.okta_id}/owner/set", {"login": END_USER.login}, follow=True
    )
    assert "deprovisioned in Okta: an owner must be active" in gone.content.decode()
    done = client.post(f"/apps/{app.okta_id}/owner/set", {"login": APP_ADMIN.login})
    assert done.status_code == 302
    owner = AppOwner.objects.get(app=app)
    assert (owner.okta_user_id, owner.login, owner.source, owner.assigned_by) == (
        APP_ADMIN.okta_id,
        APP_ADMIN.login,
        "assigned",
        SUPER.login,
    )
    row = AuditEvent.objects.filter(action="owner_assigned").latest("seq")
    assert (row.actor_login, row.detail["source"]) == (SUPER.login, "assigned")
    # From the list of known people (the directory), by Okta user id.
    from grantsconsole.grants.services import people

    people.note_person(
        ORG_ADMIN.okta_id, login=ORG_ADMIN.login, display_name="", source=people.SIGN_IN
    )
    assert ORG_ADMIN.login in client.get(f"/apps/{app.okta_id}/owner/").content.decode()
    client.post(f"/apps/{app.okta_id}/owner/set", {"person": ORG_ADMIN.okta_id})
    assert AppOwner.objects.get(app=app).login == ORG_ADMIN.login


def test_an_owner_actor_matches_by_id_else_by_login():
    assert owners.is_owner("a@example.com", "00uA", actor=Actor("00uA", "other@x"))
    assert not owners.is_owner(
        "a@example.com", "00uA", actor=Actor("00uB", "a@example.com")
    )
    assert owners.is_owner("A@example.com", "", actor=Actor("00uB", "a@example.com"))
    assert not owners.is_owner("", "", actor=Actor("", ""))


def test_deactivating_the_owner_in_okta_orphans_the_app_at_the_next_sync(
    sim, worker, settings
):
    """End to end: the user deactivated in the simulator, the System Log
    polled by the incremental sync with the worker's client."""
    from grantsconsole.okta_clients import worker_client

    app = make_app()
    make_grant(app, "okta.users.manage", by=ORG_ADMIN, granted_by=ORG_ADMIN.login)
    owners.refresh_owner(app)
    LogCursor.objects.create(
        name=incremental_sync.CURSOR_NAME,
        since=timezone.now() - timedelta(minutes=1),
    )
    assert sim.oob_user_deactivate(ORG_ADMIN.login)["status"] == "DEPROVISIONED"
    with mock.patch(ALERT) as alert:
        run = incremental_sync.run_incremental_sync(client=worker_client())
    assert run.status == "succeeded", run.message
    assert AppOwner.objects.get(app=app).orphaned_at is not None
    assert alert.call_args.kwargs["details"]["owner"] == ORG_ADMIN.login


def test_the_baseline_sync_gives_each_app_its_default_owner_without_audit_rows(
    sim, worker, settings
):
    """The first full sync records owners as found (its ``app_discovered``
    rows are the record); later changes are audited."""
    from grantsconsole.grants import services
    from grantsconsole.grants.models import OktaApp
    from grantsconsole.okta_clients import worker_client
    from tests.conftest import lift_sync_rate_limits

    lift_sync_rate_limits(sim)
    run = services.run_full_sync(client=worker_client())
    assert run.status == "succeeded", run.message
    holding = OktaApp.objects.filter(grant_count__gt=0)
    assert AppOwner.objects.filter(app__in=holding).count() == holding.count()
    assert not AuditEvent.objects.filter(action="owner_assigned").exists()
