"""Attestation campaigns: which grants they list, who may answer, a revoke
answer through the console's write path, reminders, the report."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from grantsconsole.accounts.models import OktaCredential
from grantsconsole.governance import attestation, owners
from grantsconsole.governance.attestation_models import AttestationItem, Campaign
from grantsconsole.grants.models import AuditEvent, OktaApp, ScopeGrant
from tests.console.conftest import okta_grants, web_app
from tests.factories import ORG_ADMIN, READ_ONLY, SUPER, make_app, make_grant

pytestmark = pytest.mark.django_db


def _owned_by(app, persona):
    owners.assign_owner(
        app, owners.Person(persona.okta_id, persona.login), actor=SUPER.actor
    )


def test_a_campaign_lists_every_critical_and_high_grant_with_its_owner():
    app = make_app("0oaCAMPAIGN000000001")
    make_grant(app, "okta.users.manage", granted_by=SUPER.login)  # critical
    make_grant(app, "okta.logs.read", granted_by=SUPER.login)  # high
    make_grant(app, "okta.brands.manage", granted_by=SUPER.login)  # medium
    make_grant(app, "okta.groups.read", granted_by=SUPER.login)  # low
    make_grant(app, "okta.roles.manage", revoked_at=timezone.now())  # gone
    gone = make_app("0oaREMOVED0000000002", removed_at=timezone.now())
    make_grant(gone, "okta.users.manage")
    campaign = attestation.start_campaign(trigger="console", actor=ORG_ADMIN.actor)
    items = {
        (i.app_id, i.scope_id, i.risk, i.owner_login) for i in campaign.items.all()
    }
    assert items == {
        (app.pk, "okta.users.manage", "critical", SUPER.login),
        (app.pk, "okta.logs.read", "high", SUPER.login),
    }
    assert campaign.due_at - campaign.started_at == timedelta(days=14)
    row = AuditEvent.objects.get(action="campaign_started")
    assert (row.actor_login, row.detail["items"]) == (ORG_ADMIN.login, 2)
    assert campaign.closed_at is None


def test_the_schedule_starts_a_campaign_every_configured_days(settings):
    settings.ATTESTATION_EVERY_DAYS = 90
    now = timezone.now()
    first = attestation.start_scheduled_campaign(now=now)
    assert first.trigger == "beat"
    assert first.closed_at is not None  # nothing to attest: closed at once
    assert attestation.start_scheduled_campaign(now=now + timedelta(days=89)) is None
    assert attestation.start_scheduled_campaign(now=now + timedelta(days=90))
    settings.ATTESTATION_EVERY_DAYS = 0
    assert attestation.start_scheduled_campaign(now=now + timedelta(days=900)) is None


@pytest.fixture
def campaign(mirrored, sim):
    """A campaign of the demo org's grants; the first web app holding a
    critical grant is owned by the demo Read-Only Admin (an auditor)."""
    okta_app = web_app(sim, holding="okta.users.manage")
    app = OktaApp.objects.get(okta_id=okta_app["id"])
    _owned_by(app, READ_ONLY)
    made = attestation.start_campaign(trigger="console", actor=SUPER.actor)
    item = made.items.get(app=app, scope_id="okta.users.manage")
    return made, item


@pytest.fixture
def owner_client(signed_in_as, sim):
    """The demo Read-Only Admin signed in as an auditor."""
    client = signed_in_as(READ_ONLY)
    OktaCredential.objects.filter(okta_user_id=READ_ONLY.okta_id).update(
        access=OktaCredential.AUDITOR
    )
    return client


def test_the_owner_answers_and_another_auditor_is_refused(
    campaign, owner_client, signed_in_as, sim
):
    made, item = campaign
    other = made.items.exclude(owner_okta_id=READ_ONLY.okta_id).first()
    page = owner_client.get(f"/attestation/{made.pk}/").content.decode()
    assert f'action="/attestation/items/{item.pk}/answer"' in page
    assert f'action="/attestation/items/{other.pk}/answer"' not in page
    refused = owner_client.post(
        f"/attestation/items/{other.pk}/answer", {"decision": "confirm"}
    )
    assert refused.status_code == 403
    assert b'data-reason="auditor"' in refused.content
    other.refresh_from_db()
    assert other.decision == ""
    assert AuditEvent.objects.filter(
        action="authz_denied", actor_login=READ_ONLY.login
    ).exists()
    done = owner_client.post(
        f"/attestation/items/{item.pk}/answer",
        {"decision": "confirm", "comment": "Nightly user import"},
    )
    assert done.status_code == 302
    item.refresh_from_db()
    assert (item.decision, item.answered_by, item.comment) == (
        "confirm",
        READ_ONLY.login,
        "Nightly user import",
    )
    row = AuditEvent.objects.get(action="attestation_answer")
    assert (row.actor_login, row.scope_id, row.detail["as"]) == (
        READ_ONLY.login,
        "okta.users.manage",
        "owner",
    )
    again = owner_client.post(
        f"/attestation/items/{item.pk}/answer", {"decision": "revoke"}, follow=True
    )
    assert "Already answered" in again.content.decode()


def test_an_owners_revoke_waits_for_a_super_admin_who_revokes_through_the_write_path(
    campaign, owner_client, signed_in_as, sim
):
    _, item = campaign
    app_id = item.app.okta_id
    owner_client.post(
        f"/attestation/items/{item.pk}/answer",
        {"decision": "revoke", "comment": "not used since spring"},
    )
    item.refresh_from_db()
    assert (item.decision, item.revoke_state) == ("revoke", "queued")
    assert "okta.users.manage" in okta_grants(sim, app_id)  # an auditor cannot revoke
    admin = signed_in_as(SUPER, mfa=True)
    queue = admin.get("/attestation/").content.decode()
    assert (
        f'action="/attestation/items/{item.pk}/answer"'
        in queue.split('id="queued-revokes"')[1]
    )
    ask = admin.post(f"/attestation/items/{item.pk}/answer", {"decision": "revoke"})
    assert ask.status_code == 200
    assert b"Yes, revoke it" in ask.content
    assert "okta.users.manage" in okta_grants(sim, app_id)  # confirmation first
    done = admin.post(
        f"/attestation/items/{item.pk}/answer", {"decision": "revoke", "confirm": "yes"}
    )
    assert done.status_code == 302
    assert "okta.users.manage" not in okta_grants(sim, app_id)
    item.refresh_from_db()
    assert (item.revoke_state, item.answered_by) == ("done", READ_ONLY.login)
    revoke = AuditEvent.objects.get(seq=item.revoke_audit_seq)
    assert (revoke.action, revoke.actor_login, revoke.outcome) == (
        "revoke",
        SUPER.login,
        "success",
    )
    assert ScopeGrant.objects.get(
        app=item.app, scope_id="okta.users.manage"
    ).revoked_by == (SUPER.login)
    answers = AuditEvent.objects.filter(action="attestation_answer").order_by("seq")
    assert [(a.actor_login, a.detail["as"]) for a in answers] == [
        (READ_ONLY.login, "owner"),
        (SUPER.login, "super_admin"),
    ]


def test_a_super_admins_revoke_answer_is_stepped_up_when_the_sign_in_is_old(
    campaign, signed_in_as, sim, settings
):
    _, item = campaign
    settings.ACCOUNTS_STEP_UP_MAX_AGE = 0
    admin = signed_in_as(SUPER)
    response = admin.post(
        f"/attestation/items/{item.pk}/answer", {"decision": "revoke", "confirm": "yes"}
    )
    assert response.status_code == 302
    assert "/oauth2/v1/authorize" in response["Location"]
    assert "okta.users.manage" in okta_grants(sim, item.app.okta_id)
    item.refresh_from_db()
    assert item.decision == ""


def test_the_campaign_closes_when_every_item_is_answered():
    app = make_app()
    make_grant(app, "okta.users.manage", granted_by=SUPER.login)
    made = attestation.start_campaign(trigger="beat")
    (item,) = made.items.all()
    attestation.answer(
        item, decision="confirm", comment="", actor=SUPER.actor, super_admin=True
    )
    made.refresh_from_db()
    assert made.closed_at is not None
    assert AuditEvent.objects.filter(action="campaign_closed").count() == 1
    with pytest.raises(attestation.AnswerRefused, match="closed"):
        attestation.answer(
            item, decision="revoke", comment="", actor=SUPER.actor, super_admin=True
        )


def test_reminders_go_to_owners_with_open_items_once_a_day(mailoutbox):
    mine, theirs = make_app("0oaMINE0000000000001"), make_app("0oaTHEIRS00000000002")
    make_grant(mine, "okta.users.manage", granted_by=SUPER.login)
    make_grant(mine, "okta.groups.manage", granted_by=SUPER.login)
    make_grant(theirs, "okta.users.manage", granted_by=ORG_ADMIN.login)
    made = attestation.start_campaign(trigger="beat")
    answered = made.items.get(app=theirs)
    attestation.answer(
        answered, decision="confirm", comment="", actor=SUPER.actor, super_admin=True
    )
    now = timezone.now()
    assert attestation.send_reminders(now) == 1
    assert attestation.send_reminders(now + timedelta(minutes=30)) == 0
    (mail,) = mailoutbox
    assert mail.to == [SUPER.login]
    assert "okta.users.manage" in mail.body
    assert "okta.groups.manage" in mail.body
    assert attestation.send_reminders(now + timedelta(days=1)) == 1
    assert [m.to for m in mailoutbox] == [[SUPER.login], [SUPER.login]]


def test_the_report_shows_who_answered_what_and_what_is_overdue(
    signed_in_as, sim, settings
):
    app = make_app(label="=HYPERLINK(1)")
    make_grant(app, "okta.users.manage", granted_by=SUPER.login)
    make_grant(app, "okta.groups.manage", granted_by=SUPER.login)
    made = attestation.start_campaign(trigger="beat")
    done = made.items.get(scope_id="okta.groups.manage")
    attestation.answer(
        done, decision="confirm", comment="ok", actor=SUPER.actor, super_admin=True
    )
    Campaign.objects.filter(pk=made.pk).update(
        due_at=timezone.now() - timedelta(days=1)
    )
    client = signed_in_as(SUPER)
    data = json.loads(client.get(f"/attestation/{made.pk}/export.json").content)
    items = {i["scope_id"]: i for i in data["items"]}
    assert items["okta.groups.manage"]["answered_by"] == SUPER.login
    assert items["okta.groups.manage"]["decision"] == "confirm"
    assert items["okta.groups.manage"]["answered_at"]
    assert items["okta.groups.manage"]["overdue"] is False
    assert items["okta.users.manage"]["overdue"] is True
    csv = client.get(f"/attestation/{made.pk}/export.csv")
    assert csv["Content-Disposition"].startswith("attachment;")
    text = csv.content.decode()
    assert '"\'=HYPERLINK(1)"' in text  # formula neutralised
    assert text.splitlines()[0].startswith('"app_okta_id","app_label","scope_id"')
    page = client.get(f"/attestation/{made.pk}/").content.decode()
    assert "1 overdue" in page
    assert AttestationItem.objects.filter(campaign=made).count() == 2
