"""Evaluating the policy: each rule kind, the findings' lifecycle, the file
and console versions (an invalid one never replaces the last valid), and the
evaluation after changes."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from grantsconsole.governance import policies
from grantsconsole.governance.models import AppOwner, PolicyFinding, PolicyVersion
from grantsconsole.governance.policy import PolicyInvalid
from grantsconsole.grants.models import AppControls, AuditEvent
from grantsconsole.grants.signals import grant_state_changed
from tests.factories import SUPER, make_app, make_grant

pytestmark = pytest.mark.django_db

RULES = """version: 1
apps:
  0oaCONSOLE:
    allowed_scopes: [okta.apps.read, okta.appGrants.manage]
    required_scopes: [okta.apps.read]
rules:
  - id: no-grant-admin
    kind: forbid_scopes
    scopes: [okta.appGrants.manage, okta.roles.manage]
    unless_allowlisted: true
    risk: critical
  - id: public-no-manage
    kind: forbid_scopes
    app_types: [browser, native]
    scopes: [manage]
  - id: keys
    kind: require_auth_method
    app_types: [service]
    when_holding: [manage]
    method: private_key_jwt
  - id: owned-and-ending
    kind: require_owner_and_end
    min_risk: critical
"""
ALERT = "grantsconsole.governance.alerting.raise_alert"


def use(text: str = RULES):
    return policies.save_from_console(text, actor=SUPER.actor)


def findings(state: str = "open") -> set[tuple[str, str, str]]:
    return set(
        PolicyFinding.objects.filter(state=state).values_list(
            "rule_id", "app__label", "scope_id"
        )
    )


def test_each_rule_kind_finds_what_it_forbids_and_nothing_else():
    console = make_app("0oaCONSOLE", label="Console")
    make_grant(console, "okta.appGrants.manage", ends_at=timezone.now())
    make_grant(console, "okta.users.read")  # not in its allowed_scopes
    terraform = make_app("0oaTF", label="Terraform", application_type="service")
    make_grant(terraform, "okta.appGrants.manage")
    AppControls.objects.create(app=terraform, auth_method="client_secret_basic")
    keyed = make_app("0oaKEYED", label="Keyed", application_type="service")
    make_grant(keyed, "okta.groups.manage")
    AppControls.objects.create(app=keyed, auth_method="private_key_jwt")
    spa = make_app("0oaSPA", label="SPA", application_type="browser")
    make_grant(spa, "okta.users.manage")
    make_grant(spa, "okta.users.read")
    make_grant(spa, "okta.myAccount.email.manage")  # a self scope, not manage
    with mock.patch(ALERT):
        use()
    assert findings() == {
        ("apps.0oaCONSOLE", "Console", "okta.users.read"),
        ("apps.0oaCONSOLE", "Console", "okta.apps.read"),  # required, missing
        ("no-grant-admin", "Terraform", "okta.appGrants.manage"),
        ("keys", "Terraform", ""),
        ("owned-and-ending", "Terraform", "okta.appGrants.manage"),
        ("owned-and-ending", "Console", "okta.appGrants.manage"),  # no owner
        ("public-no-manage", "SPA", "okta.users.manage"),
        # okta.users.manage and okta.groups.manage are critical in the catalog
        ("owned-and-ending", "SPA", "okta.users.manage"),
        ("owned-and-ending", "Keyed", "okta.groups.manage"),
    }
    f = PolicyFinding.objects.get(rule_id="keys")
    assert "client_secret_basic" in f.message
    assert "private_key_jwt" in f.message
    assert PolicyFinding.objects.get(rule_id="no-grant-admin").remedy == "revoke"
    assert (
        PolicyFinding.objects.get(
            rule_id="apps.0oaCONSOLE", scope_id="okta.apps.read"
        ).remedy
        == "grant"
    )
    # An owner and an end date satisfy the owner rule.
    AppOwner.objects.create(
        app=console, login=SUPER.login, source="assigned", assigned_at=timezone.now()
    )
    policies.evaluate()
    assert ("owned-and-ending", "Console", "okta.appGrants.manage") in findings(
        "resolved"
    )


def test_findings_open_are_accepted_resolve_and_reopen(settings):
    app = make_app("0oaTF", label="Terraform", application_type="service")
    grant = make_grant(app, "okta.roles.manage")
    with mock.patch(ALERT) as alert:
        use(RULES.split("  - id: public-no-manage")[0])
    finding = PolicyFinding.objects.get(rule_id="no-grant-admin")
    assert finding.state == "open"
    assert alert.call_args.args == ("policy_violation",)
    assert alert.call_args.kwargs["risk"] == "critical"
    assert alert.call_args.kwargs["scope_id"] == "okta.roles.manage"

    with pytest.raises(ValueError, match="reason is required"):
        policies.accept(finding.pk, actor=SUPER.actor, reason=" ", days=30)
    with pytest.raises(ValueError, match="1 to 365 days"):
        policies.accept(finding.pk, actor=SUPER.actor, reason="x", days=400)
    policies.accept(finding.pk, actor=SUPER.actor, reason="migration", days=30)
    finding.refresh_from_db()
    assert finding.state == "accepted"
    assert finding.accepted_by == SUPER.login
    row = AuditEvent.objects.get(action="policy_finding_accepted")
    assert row.detail["reason"] == "migration"
    assert row.scope_id == "okta.roles.manage"

    with mock.patch(ALERT) as alert:
        policies.evaluate()  # still violated, still accepted: no alert
        assert not alert.called
        policies.evaluate(now=timezone.now() + timedelta(days=31))
        assert alert.called  # the acceptance expired: open again
    finding.refresh_from_db()
    assert finding.state == "open"
    assert finding.accepted_reason == ""

    grant.revoked_at = timezone.now()
    grant.save()
    policies.evaluate()
    finding.refresh_from_db()
    assert finding.state == "resolved"
    assert finding.resolved_at is not None

    make_grant(app, "okta.roles.manage")
    with mock.patch(ALERT) as alert:
        policies.evaluate()
    finding.refresh_from_db()
    assert (finding.state, finding.reopened) == ("open", 1)
    assert alert.call_args.kwargs["details"]["reopened"] == 1


def test_many_new_findings_raise_one_summary_alert():
    for i in range(policies.ALERT_EACH_UP_TO + 1):
        make_grant(make_app(f"0oaA{i:03d}"), "okta.roles.manage")
    with mock.patch(ALERT) as alert:
        use(RULES.split("  - id: public-no-manage")[0])
    assert alert.call_count == 1
    assert alert.call_args.kwargs["details"]["by_rule"]["no-grant-admin"] == 11


def test_an_invalid_console_edit_is_refused_and_the_last_valid_stays():
    app = make_app("0oaTF", label="Terraform")
    make_grant(app, "okta.roles.manage")
    with mock.patch(ALERT):
        first = use()
    with pytest.raises(PolicyInvalid) as caught:
        use(RULES.replace("kind: require_owner_and_end", "kind: require_owners"))
    assert caught.value.problems[0].rule == "owned-and-ending"
    assert caught.value.problems[0].line == 22
    assert PolicyVersion.objects.get() == first
    refused = AuditEvent.objects.get(action="policy_rejected")
    assert refused.outcome == "denied"
    assert refused.actor_login == SUPER.login
    assert refused.detail["problems"][0]["line"] == 22
    policies.evaluate()
    assert findings() == {
        ("no-grant-admin", "Terraform", "okta.roles.manage"),
        ("owned-and-ending", "Terraform", "okta.roles.manage"),
    }


def test_the_policy_file_is_read_at_evaluation_and_an_invalid_file_is_refused(
    tmp_path, settings
):
    path = tmp_path / "policy.yaml"
    path.write_text(RULES)
    settings.GOVERNANCE_POLICY_FILE = str(path)
    make_grant(make_app("0oaTF", label="Terraform"), "okta.roles.manage")
    with mock.patch(ALERT):
        policies.evaluate()
    version = PolicyVersion.objects.get()
    assert (version.source, version.path) == ("file", str(path))
    policies.evaluate()
    assert PolicyVersion.objects.count() == 1  # unchanged text, no new version

    path.write_text(RULES.replace("    unless_allowlisted: true\n", "    unless: 1\n"))
    for _ in range(2):
        result = policies.evaluate()
    assert result.version == version.pk
    assert result.open == 2
    refused = AuditEvent.objects.filter(action="policy_rejected")
    assert refused.count() == 1  # once per refused text
    assert refused.get().detail["problems"][0]["line"] == 10
    assert policies.load_file().state == "refused"

    # A console edit wins until the file's text changes from its last version.
    console = use(RULES.replace("min_risk: critical", "min_risk: high"))
    path.write_text(RULES)
    assert policies.load_file().state == "superseded"
    assert policies.in_force()[0] == console
    path.write_text(RULES.replace("min_risk: critical", "min_risk: medium"))
    policies.evaluate()
    assert PolicyVersion.objects.count() == 3
    assert policies.in_force()[0].source == "file"


def test_a_console_write_and_a_sync_evaluate_the_policy():
    app = make_app("0oaTF", label="Terraform")
    with mock.patch(ALERT):
        use()
    make_grant(app, "okta.roles.manage")
    assert not PolicyFinding.objects.exists()
    with mock.patch(ALERT):
        grant_state_changed.send(sender=None, app_ids=[app.pk])
    assert findings() == {
        ("no-grant-admin", "Terraform", "okta.roles.manage"),
        ("owned-and-ending", "Terraform", "okta.roles.manage"),
    }


def test_an_evaluation_failure_never_breaks_the_change_that_sent_it():
    with mock.patch.object(policies, "evaluate", side_effect=RuntimeError("bug")):
        grant_state_changed.send(sender=None, app_ids=None)  # no raise


def test_the_end_of_a_full_sync_evaluates_the_whole_org(monkeypatch):
    from grantsconsole.grants import tasks

    monkeypatch.setattr(tasks, "worker_client", lambda: None)
    monkeypatch.setattr(tasks.services, "full_sync_step", lambda *a, **k: None)
    with mock.patch.object(policies, "evaluate") as evaluate:
        tasks.full_sync_step.run(1, 0)
    evaluate.assert_called_once_with(None)


def test_the_demo_policy_has_findings_on_the_demo_org(sim, settings):
    from pathlib import Path

    from tests.console.conftest import mirror_org

    mirror_org(sim)
    settings.GOVERNANCE_POLICY_FILE = str(
        Path(__file__).resolve().parents[2] / "policy" / "demo.yaml"
    )
    with mock.patch(ALERT):
        result = policies.evaluate()
    assert result.open > 0
    found = findings()
    assert (
        "no-grant-or-role-admin",
        "Terraform Automation",
        "okta.appGrants.manage",
    ) in found
    assert ("public-clients-no-manage", "Admin Mobile", "okta.users.manage") in found
    # The console's and the worker's apps match their allowed_scopes (their
    # critical grants still want an owner and an end date).
    own = {f[0] for f in found if f[1] in ("Grants Console", "Grants Console Worker")}
    assert own == {"critical-grants-owned-and-ending"}
