"""The policy pages: the editor refuses an invalid policy with its problems
and keeps the version in force, the history diffs versions, a finding's risk
is accepted from the page."""

from __future__ import annotations

from unittest import mock

from grantsconsole.governance import policies
from grantsconsole.governance.models import PolicyFinding, PolicyVersion
from grantsconsole.grants.models import AuditEvent
from tests.factories import SUPER, make_app, make_grant

ALERT = "grantsconsole.governance.alerting.raise_alert"
V1 = "version: 1\nrules:\n  - {id: no-roles, kind: forbid_scopes, scopes: [okta.roles.manage]}\n"


def test_the_editor_history_diff_and_accept(signed_in_as):
    client = signed_in_as(SUPER)
    make_grant(make_app("0oaTF", label="Terraform"), "okta.roles.manage")
    with mock.patch(ALERT):
        response = client.post("/policy/edit", {"text": V1, "note": "first"})
    assert response.status_code == 302
    v1 = PolicyVersion.objects.get()
    assert v1.author == SUPER.login

    bad = V1 + "  - {id: no-roles, kind: forbid_scopes, scopes: [roles]}\n"
    response = client.post("/policy/edit", {"text": bad})
    page = response.content.decode()
    assert response.status_code == 400
    assert "line 4, rule no-roles: the id no-roles is used twice." in page
    assert "&#x27;roles&#x27; in scopes is not a scopeId" in page  # escaped
    assert PolicyVersion.objects.get() == v1  # the last valid stays in force

    v2_text = V1.replace("okta.roles.manage]", "okta.roles.manage, okta.apps.manage]")
    with mock.patch(ALERT):
        client.post("/policy/edit", {"text": v2_text})
    v2 = PolicyVersion.objects.first()
    diff = client.get(f"/policy/versions/{v2.pk}/").content.decode()
    assert (
        "-  - {id: no-roles, kind: forbid_scopes, scopes: [okta.roles.manage]}" in diff
    )
    assert "okta.roles.manage, okta.apps.manage]}" in diff
    assert f"v{v1.pk}" in client.get("/policy/versions/").content.decode()

    page = client.get("/policy/").content.decode()
    assert "Terraform holds okta.roles.manage" in page
    finding = PolicyFinding.objects.get()
    response = client.post(
        f"/policy/findings/{finding.pk}/accept", {"reason": "", "days": "30"}
    )
    finding.refresh_from_db()
    assert finding.state == "open"
    response = client.post(
        f"/policy/findings/{finding.pk}/accept", {"reason": "vendor tool", "days": "30"}
    )
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.state == "accepted"
    assert AuditEvent.objects.filter(action="policy_finding_accepted").count() == 1
    assert "vendor tool" in client.get("/policy/?state=accepted").content.decode()
    assert policies.evaluate().open == 0
