"""Least-privilege plans: the steps and their order, risk removed, the sort,
nothing before the evidence covers the window, and the exports' content."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from grantsconsole.grants.safe_csv import csv_lines
from grantsconsole.usage import plans
from grantsconsole.usage.models import Observation, ScopeUsage
from tests.factories import make_app, make_grant, make_held_grant

NOW = timezone.now()


def observed(days: int) -> None:
    Observation.objects.update_or_create(
        name="usage",
        defaults={"observed_from": NOW - timedelta(days=days), "observed_to": NOW},
    )


def used(
    app, scope_id: str, *, issued: int | None = None, exercised: int | None = None
):
    """Evidence that ``app`` was issued / exercised ``scope_id`` N days ago."""
    ScopeUsage.objects.create(
        client_id=app.client_id,
        scope_id=scope_id,
        last_issued_at=NOW - timedelta(days=issued) if issued is not None else None,
        last_exercised_at=NOW - timedelta(days=exercised)
        if exercised is not None
        else None,
    )


def holding(okta_id: str, *scope_ids: str, label: str = ""):
    app = make_app(okta_id, label=label or okta_id)
    for scope_id in scope_ids:
        make_held_grant(app, scope_id)
    return app


@pytest.fixture
def covered(db):
    observed(400)


def test_reducible_grants_the_read_twin_before_revoking_manage(covered):
    app = holding("0oaPLAN1", "okta.users.manage")
    used(app, "okta.users.manage", issued=3)
    plan = plans.app_plan(app)
    assert plan.step_keys == ["grant okta.users.read", "revoke okta.users.manage"]
    assert plan.reduced == ("okta.users.read",)
    assert plan.reducible == ("okta.users.manage",)
    # critical manage (4) out, high read (3) in
    assert plan.risk_removed == 1


def test_a_read_twin_already_held_is_not_granted_again(covered):
    app = holding("0oaPLAN2", "okta.users.manage", "okta.users.read")
    used(app, "okta.users.manage", issued=3)
    used(app, "okta.users.read", issued=3)
    plan = plans.app_plan(app)
    assert plan.step_keys == ["revoke okta.users.manage"]
    assert plan.risk_removed == 4


def test_an_unused_read_twin_of_a_reducible_manage_scope_is_kept(covered):
    # The tokens carried manage, which reads: the downgrade keeps the read.
    app = holding("0oaPLAN3", "okta.users.manage", "okta.users.read")
    used(app, "okta.users.manage", issued=3)
    plan = plans.app_plan(app)
    assert plan.step_keys == ["revoke okta.users.manage"]
    assert plan.unused == ()
    assert plan.reduced == ("okta.users.read",)


def test_unused_is_revoke_only_and_in_use_gets_nothing(covered):
    app = holding(
        "0oaPLAN4", "okta.groups.manage", "okta.logs.read", "okta.apps.manage"
    )
    used(app, "okta.groups.manage", issued=1, exercised=2)  # in use
    used(app, "okta.logs.read", issued=200)  # unused in 90 days
    plan = plans.app_plan(app)
    assert plan.step_keys == ["revoke okta.apps.manage", "revoke okta.logs.read"]
    assert all(s.verb == "revoke" for s in plan.steps)
    assert plan.reduced == ("okta.groups.manage",)
    assert plan.risk_removed == 4 + 3


def test_no_step_before_the_evidence_covers_the_window(db):
    observed(40)
    app = holding("0oaPLAN5", "okta.apps.manage", "okta.users.manage")
    used(app, "okta.users.manage", issued=3)
    assert plans.app_plan(app).steps == ()
    assert plans.org_plans().total_apps == 0
    # a 30-day window is covered
    assert plans.app_plan(app, window_days=30).step_keys == [
        "grant okta.users.read",
        "revoke okta.users.manage",
        "revoke okta.apps.manage",
    ]


def test_an_app_without_a_client_id_gets_no_verdict(covered):
    app = holding("0oaPLAN6", "okta.apps.manage")
    app.client_id = ""
    app.save()
    assert plans.app_plan(app).steps == ()
    assert plans.org_plans().total_apps == 0


def test_org_plans_are_sorted_by_risk_removed(covered):
    holding("0oaSMALL", "okta.brands.read", label="A small")  # 1
    holding("0oaBIG", "okta.apps.manage", "okta.users.manage", label="Z big")
    mid = holding("0oaMID", "okta.users.manage", label="M mid")  # reducible: 1
    used(mid, "okta.users.manage", issued=5)
    busy = holding("0oaBUSY", "okta.users.read")
    used(busy, "okta.users.read", issued=1)  # in use: no plan
    org = plans.org_plans()
    assert [p.app.okta_id for p in org.plans] == ["0oaBIG", "0oaMID", "0oaSMALL"]
    assert [p.risk_removed for p in org.plans] == [8, 1, 1]
    assert org.total_apps == 3
    assert (org.unused, org.reducible, org.risk_removed) == (3, 1, 10)
    assert org.by_risk["critical"] == {"unused": 2, "reducible": 1}
    assert org.by_risk["low"] == {"unused": 1, "reducible": 0}
    # the SQL ranking counts what each plan counts
    for plan in org.plans:
        assert plan.risk_removed == plans.app_plan(plan.app).risk_removed
    page = plans.org_plans(offset=1, limit=1)
    assert [p.app.okta_id for p in page.plans] == ["0oaMID"]
    assert page.total_apps == 3


def test_missing_lists_denied_scopes_the_app_does_not_hold(covered):
    app = holding("0oaMISS", "okta.users.read")
    ScopeUsage.objects.create(
        client_id=app.client_id,
        scope_id="okta.users.manage",
        last_denied_at=NOW - timedelta(days=2),
    )
    ScopeUsage.objects.create(  # held: not missing
        client_id=app.client_id,
        scope_id="okta.users.read",
        last_denied_at=NOW - timedelta(days=2),
    )
    ScopeUsage.objects.create(  # outside the window
        client_id=app.client_id,
        scope_id="okta.apps.read",
        last_denied_at=NOW - timedelta(days=200),
    )
    found = plans.missing()
    assert [(m.app_okta_id, m.scope_id) for m in found] == [
        (app.okta_id, "okta.users.manage")
    ]


def test_exports_list_every_step_in_order(covered):
    app = holding("0oaEXP", "okta.users.manage", "okta.brands.read", label="=cmd")
    used(app, "okta.users.manage", issued=3)
    org = plans.org_plans(limit=None)
    rows = list(csv.reader(io.StringIO("".join(csv_lines(plans.export_rows(org))))))
    assert rows[0] == list(plans.EXPORT_COLUMNS)
    assert [(r[3], r[4], r[5]) for r in rows[1:]] == [
        ("1", "grant", "okta.users.read"),
        ("2", "revoke", "okta.users.manage"),
        ("3", "revoke", "okta.brands.read"),
    ]
    assert rows[1][1] == "'=cmd"  # the safe CSV helper
    data = plans.as_json(org)
    assert data["totals"] == {
        "apps": 1,
        "unused": 1,
        "reducible": 1,
        "risk_removed": 2,
    }
    assert [s["verb"] + " " + s["scope_id"] for s in data["plans"][0]["steps"]] == [
        "grant okta.users.read",
        "revoke okta.users.manage",
        "revoke okta.brands.read",
    ]
    assert data["coverage"]["complete"] is True


def test_the_cached_ranking_follows_the_grants_and_the_evidence(covered):
    app = holding("0oaCACHE1", "okta.apps.manage")
    assert plans.org_plans(cached=True).total_apps == 1
    holding("0oaCACHE2", "okta.users.manage")  # a new app
    assert plans.org_plans(cached=True).total_apps == 2
    used(app, "okta.apps.manage", issued=1, exercised=1)
    observed(400)  # every poll saves the observation
    assert [p.app.okta_id for p in plans.org_plans(cached=True).plans] == ["0oaCACHE2"]


def test_a_grant_held_for_less_than_the_window_gets_no_step_yet(covered):
    app = make_app("0oaYOUNG", label="Young")
    make_grant(app, "okta.apps.manage")  # granted just now: never used, yet
    make_held_grant(app, "okta.logs.read")  # held for over a year, never used
    assert plans.app_plan(app).step_keys == ["revoke okta.logs.read"]
    (plan,) = plans.org_plans().plans
    assert plan.step_keys == ["revoke okta.logs.read"]
