"""The drift plan: its order, ``manage.py policy plan`` and its exit codes,
and "Apply" through the normal write path."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.management import call_command

from grantsconsole.governance import plans, policies
from grantsconsole.governance.models import GrantRequest, PolicyFinding
from grantsconsole.grants.models import AuditEvent, OktaApp, ScopeGrant
from grantsconsole.grants.services.scope_writes import ScopeResult
from tests.console.conftest import grant_writes, mirror_org, okta_grants, web_app
from tests.factories import SUPER, make_app, make_grant

ALERT = "grantsconsole.governance.alerting.raise_alert"
POLICY = """version: 1
apps:
  0oaB:
    allowed_scopes: [okta.users.read, okta.groups.read]
    required_scopes: [okta.users.read, okta.groups.read]
rules:
  - {id: no-roles, kind: forbid_scopes, scopes: [okta.roles.manage]}
  - {id: no-apps-manage, kind: forbid_scopes, scopes: [okta.apps.manage],
     auto_remediate: true}
  - {id: keys, kind: require_auth_method, method: private_key_jwt}
  - {id: both, kind: forbid_scopes, scopes: [okta.groups.read]}
"""


def use(text: str) -> None:
    with mock.patch(ALERT):
        policies.save_from_console(text, actor=SUPER.actor)


@pytest.mark.django_db
def test_the_plan_runs_apps_by_label_grants_before_revokes():
    b = make_app("0oaB", label="Beta")
    make_grant(b, "okta.roles.manage")
    make_grant(b, "okta.apps.manage")
    make_grant(b, "okta.apps.read")
    a = make_app("0oaA", label="alpha")
    make_grant(a, "okta.roles.manage")
    use(POLICY)
    plan = plans.make_plan()
    assert [(s.app_label, s.line) for s in plan.steps] == [
        ("alpha", "- revoke okta.roles.manage"),
        ("Beta", "+ grant okta.users.read"),
        ("Beta", "- revoke okta.apps.manage"),
        ("Beta", "- revoke okta.apps.read"),
        ("Beta", "- revoke okta.roles.manage"),
    ]
    # Forbidden by a rule and outside allowed_scopes: one step, both rules.
    assert plan.steps[2].rules == ("apps.0oaB", "no-apps-manage")
    # Required, and forbidden by a rule: a conflict, never planned.
    assert [(c.app_label, c.scope_id) for c in plan.conflicts] == [
        ("Beta", "okta.groups.read")
    ]
    assert {v.rule_id for v in plan.unplanned} == {"keys"}
    assert [s.line for s in plans.auto_remediations()] == ["- revoke okta.apps.manage"]
    text = plans.render(plan)
    assert "  # Beta (0oaB)\n  + grant okta.users.read" in text
    assert "Plan: 1 to grant, 4 to revoke." in text
    assert "okta.groups.read is both required and forbidden" in text

    # An accepted finding is left out until its acceptance expires.
    finding = PolicyFinding.objects.get(rule_id="no-roles", app=a)
    policies.accept(finding.pk, actor=SUPER.actor, reason="vendor", days=7)
    plan = plans.make_plan()
    assert "alpha" not in {s.app_label for s in plan.steps}
    assert plan.accepted == 1


@pytest.mark.django_db
def test_a_grant_that_does_not_succeed_holds_back_the_apps_revokes():
    b = make_app("0oaB", label="Beta")
    make_grant(b, "okta.apps.read")
    make_grant(b, "okta.groups.read")
    use(POLICY.split("rules:")[0].replace(", okta.groups.read]", "]"))
    steps = plans.make_plan().steps
    assert [s.line for s in steps] == [
        "+ grant okta.users.read",
        "- revoke okta.apps.read",
        "- revoke okta.groups.read",
    ]
    refused = ScopeResult("okta.users.read", ok=False, changed=False, message="403")
    with mock.patch.object(plans, "write_scopes", return_value=[refused]) as write:
        results = plans.apply(steps, client=mock.Mock(), actor=SUPER.actor)
    assert [c.args[0] for c in write.call_args_list] == ["grant"]
    assert [r.ok for r in results] == [False, False, False]
    assert "plan grants before it revokes" in results[1].message


def _plan_command() -> tuple[int, str]:
    with mock.patch("sys.stdout") as out, pytest.raises(SystemExit) as exited:
        call_command("policy", "plan", stdout=out, stderr=out)
    text = "".join(c.args[0] for c in out.write.call_args_list)
    return exited.value.code, text


@pytest.mark.django_db
def test_policy_plan_exits_0_without_changes_2_with_changes_1_on_error(
    tmp_path, settings
):
    assert _plan_command() == (1, "No policy in force: nothing to plan.\n")
    app = make_app("0oaB", label="Beta")
    use("version: 1\nrules:\n  - {id: r, kind: forbid_scopes, scopes: [manage]}\n")
    assert _plan_command()[0] == 0
    make_grant(app, "okta.users.manage")
    code, text = _plan_command()
    assert code == 2
    assert "- revoke okta.users.manage" in text
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: 1\nrules: {}\n")
    settings.GOVERNANCE_POLICY_FILE = str(bad)
    code, text = _plan_command()
    assert code == 1
    assert "is refused" in text
    assert "line 2: rules must be a list" in text
    assert "- revoke okta.users.manage" in text  # against the last valid version


def test_apply_runs_the_plan_through_the_write_path(signed_in_as, sim):
    mirror_org(sim)
    app = web_app(sim, without="okta.brands.read", holding="okta.apps.read")
    held = sorted(okta_grants(sim, app["id"]))
    keep = [s for s in held if s != "okta.apps.read"]
    allowed = ", ".join([*keep, "okta.brands.read"])
    use(
        f"version: 1\napps:\n  {app['id']}:\n    allowed_scopes: [{allowed}]\n"
        "    required_scopes: [okta.brands.read]\n"
    )
    assert set(
        PolicyFinding.objects.filter(state="open").values_list("scope_id", flat=True)
    ) == {"okta.apps.read", "okta.brands.read"}
    client = signed_in_as(SUPER)
    plan = plans.make_plan()
    page = client.get("/policy/plan/").content.decode()
    assert "+ grant okta.brands.read" in page
    assert plan.fingerprint in page

    # A plan that changed since it was reviewed is refused, nothing written.
    response = client.post("/policy/apply", {"plan": "stale", "confirm": "yes"})
    assert response.status_code == 409
    # The confirmation first, then the writes.
    response = client.post("/policy/apply", {"plan": plan.fingerprint})
    assert response.status_code == 200
    assert "Yes, apply 2 changes" in response.content.decode()
    assert grant_writes(sim) == []
    with mock.patch(ALERT):
        response = client.post(
            "/policy/apply", {"plan": plan.fingerprint, "confirm": "yes"}
        )
    assert response.status_code == 200
    assert [
        (r["method"], r["path"].rsplit("/", 1)[-1] == "grants")
        for r in grant_writes(sim)
    ] == [
        ("POST", True),
        ("DELETE", False),
    ]  # the grant before the revoke
    assert okta_grants(sim, app["id"]) == {*keep, "okta.brands.read"}
    actions = list(
        AuditEvent.objects.filter(
            app__okta_id=app["id"], action__regex=r"^(grant|revoke)"
        )
        .order_by("seq")
        .values_list("action", "actor_login")
    )
    assert actions[-4:] == [
        ("grant_intent", SUPER.login),
        ("grant", SUPER.login),
        ("revoke_intent", SUPER.login),
        ("revoke", SUPER.login),
    ]
    # The writes evaluated the policy: the findings resolved themselves.
    row = OktaApp.objects.get(okta_id=app["id"])
    assert not PolicyFinding.objects.filter(app=row, state="open").exists()
    assert ScopeGrant.objects.filter(
        app=row, scope_id="okta.brands.read", revoked_at=None
    ).exists()
    assert "No changes." in client.get("/policy/plan/").content.decode()


def test_apply_asks_the_scopeid_typed_before_revoking_what_the_console_needs(
    signed_in_as, sim
):
    mirror_org(sim)
    console = "0oa1consoleDEMO000x7"
    keep = sorted(okta_grants(sim, console) - {"okta.apps.read"})
    use(f"version: 1\napps:\n  {console}:\n    allowed_scopes: [{', '.join(keep)}]\n")
    plan = plans.make_plan()
    assert [s.line for s in plan.steps] == ["- revoke okta.apps.read"]
    client = signed_in_as(SUPER)
    page = client.post("/policy/apply", {"plan": plan.fingerprint}).content.decode()
    assert "Stops working:" in page
    assert "the console's own app" in page
    response = client.post(
        "/policy/apply", {"plan": plan.fingerprint, "confirm": "yes"}
    )
    assert response.status_code == 400
    assert "type okta.apps.read exactly to confirm" in response.content.decode()
    assert grant_writes(sim) == []


def test_a_planned_grant_that_needs_approval_opens_a_request_and_holds_the_revokes(
    sim, admin_okta, settings, db
):
    settings.APPROVAL_MIN_RISK = "low"  # every grant needs a second Super Admin
    mirror_org(sim)
    app = web_app(sim, without="okta.brands.read", holding="okta.apps.read")
    keep = [s for s in sorted(okta_grants(sim, app["id"])) if s != "okta.apps.read"]
    allowed = ", ".join([*keep, "okta.brands.read"])
    use(
        f"version: 1\napps:\n  {app['id']}:\n    allowed_scopes: [{allowed}]\n"
        "    required_scopes: [okta.brands.read]\n"
    )
    with mock.patch(ALERT):
        results = plans.apply(
            plans.make_plan().steps, client=admin_okta, actor=SUPER.actor
        )

    assert grant_writes(sim) == []  # neither the grant nor the revoke
    (request,) = GrantRequest.objects.filter(app__okta_id=app["id"])
    assert (request.scope_id, request.state) == ("okta.brands.read", "pending")
    assert request.requester_login == SUPER.login
    assert [(r.step.verb, r.ok) for r in results] == [
        ("grant", False),
        ("revoke", False),
    ]
    assert f"request #{request.pk} opened" in results[0].message
    assert "Not attempted" in results[1].message
