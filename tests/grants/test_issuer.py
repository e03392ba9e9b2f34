"""Grants naming another issuer than the org: only the Org Authorization Server
mints okta.* scopes, so such a grant never works and is flagged wherever grants
are shown (the app page is tested in tests/console)."""

from __future__ import annotations

import pytest

from grantsconsole.grants import services
from grantsconsole.grants.models import AuditEvent, AuditReport, ScopeGrant
from grantsconsole.grants.services import reports
from tests.grants.helpers import app_without

pytestmark = pytest.mark.django_db

CUSTOM_DOMAIN = "https://login.example.com"


def test_a_grant_with_a_foreign_issuer_is_flagged_in_the_audit_and_the_report(
    sim, worker_client
):
    services.run_full_sync(client=worker_client)
    app = app_without(sim, "okta.users.read")
    sim.oob_grant(app["id"], "okta.users.read", issuer=CUSTOM_DOMAIN)
    held = {g["scopeId"] for g in app["grants"]}
    other = next(s for s in ("okta.groups.read", "okta.brands.read") if s not in held)
    sim.oob_grant(app["id"], other)
    services.run_full_sync(client=worker_client)

    grant = ScopeGrant.objects.get(
        app__okta_id=app["id"], scope_id="okta.users.read", revoked_at=None
    )
    assert grant.issuer == CUSTOM_DOMAIN
    assert not grant.from_org_authorization_server
    assert ScopeGrant.objects.get(
        app__okta_id=app["id"], scope_id=other, revoked_at=None
    ).from_org_authorization_server

    flagged = AuditEvent.objects.filter(action="foreign_issuer")
    assert [(e.app_okta_id, e.scope_id) for e in flagged] == [
        (app["id"], "okta.users.read")
    ]
    assert flagged.get().detail["issuer"] == CUSTOM_DOMAIN
    services.run_full_sync(client=worker_client)  # flagged once, not on every sync
    assert AuditEvent.objects.filter(action="foreign_issuer").count() == 1

    report = reports.create_report(trigger="test")
    assert report.data["foreign_issuer_grants"] == [
        {
            "okta_id": app["id"],
            "label": app["label"],
            "scope_id": "okta.users.read",
            "issuer": CUSTOM_DOMAIN,
        }
    ]
    assert report.data["totals"]["foreign_issuer_grants"] == 1
    csv_rows = [
        line
        for line in reports.report_as_csv(AuditReport.objects.get()).splitlines()
        if line.startswith('"foreign_issuer_grant"')
    ]
    assert len(csv_rows) == 1
    assert CUSTOM_DOMAIN in csv_rows[0]
