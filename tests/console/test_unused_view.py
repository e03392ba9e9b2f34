"""The "Unused and reducible" view, its exports, and "Apply" of plans through
the normal write path: confirmation, step-up, the admin's own token, an
audit row per write, read granted before manage is revoked, a failure
stopping the app's plan."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from grantsconsole.accounts.models import OktaCredential
from grantsconsole.console.confirmations import own_app
from grantsconsole.governance.models import GrantRequest
from grantsconsole.grants.models import AuditEvent, OktaApp, ScopeGrant
from grantsconsole.usage.models import Observation, ScopeUsage
from tests.console.conftest import grant_writes, okta_grants, web_app
from tests.factories import make_apps

MANAGE, READ = "okta.users.manage", "okta.users.read"
STEPS = [f"grant {READ}", f"revoke {MANAGE}"]


def observe(days: int) -> None:
    now = timezone.now()
    Observation.objects.update_or_create(
        name="usage",
        defaults={"observed_from": now - timedelta(days=days), "observed_to": now},
    )


@pytest.fixture
def reducible(mirrored, sim) -> dict:
    """An app whose only plan is to downgrade okta.users.manage: issued three
    days ago, never exercised; every other grant of the org is in use."""
    app = web_app(sim, holding=MANAGE, without=READ)
    now = timezone.now()
    ScopeUsage.objects.bulk_create(
        ScopeUsage(
            client_id=client_id,
            scope_id=scope_id,
            last_issued_at=now - timedelta(days=3),
            last_exercised_at=None
            if (client_id, scope_id) == (app["client_id"], MANAGE)
            else now,
        )
        for client_id, scope_id in ScopeGrant.objects.filter(
            revoked_at__isnull=True
        ).values_list("app__client_id", "scope_id")
        if client_id
    )
    observe(120)
    return app


def apply(client, app_id: str, **extra):
    return client.post(
        "/usage/plans/apply",
        {"app": app_id, "window": "90", f"steps-{app_id}": STEPS, **extra},
    )


def test_the_view_lists_the_plan_coverage_and_requested_not_granted(
    admin, reducible, django_assert_max_num_queries
):
    ScopeUsage.objects.create(
        client_id=reducible["client_id"],
        scope_id="okta.apps.manage",
        last_denied_at=timezone.now() - timedelta(days=1),
    )
    with django_assert_max_num_queries(8):
        page = admin.get("/usage/unused/").content.decode()
    assert "Evidence covers 120 days" in page
    assert "Okta doesn't log reads" in page
    row = page.split(f'id="plan-{reducible["id"]}"')[1].split("</tr>")[0]
    assert reducible["label"] in row
    assert f'form="apply-{reducible["id"]}"' in row  # this app's "Apply…"
    assert row.index(f"grant <code>{READ}</code>") < row.index(
        f"revoke <code>{MANAGE}</code>"
    )
    missing = page.split('id="missing-heading"')[1]
    assert "<code>okta.apps.manage</code>" in missing
    assert reducible["label"] in missing
    request = f'/requests/new?app={reducible["id"]}&amp;scope=okta.apps.manage"'
    assert request in missing


def test_no_data_yet_says_how_many_days_are_covered(admin, reducible):
    page = admin.get("/usage/unused/?window=365").content.decode()
    assert "No data yet:" in page
    assert "covers 120 of the 365 days" in page
    assert (
        reducible["label"]
        not in page.split('id="plans-heading"')[1].split('id="missing-heading"')[0]
    )


def test_apply_confirms_first_then_grants_read_before_revoking_manage(
    admin, reducible, sim
):
    app_id = reducible["id"]
    confirm = admin.post("/usage/plans/apply", {"app": app_id, "window": "90"})
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert f'name="steps-{app_id}" value="grant {READ}"' in page
    assert "Yes, apply 1 plan" in page
    assert grant_writes(sim) == []

    done = apply(admin, app_id, confirm="yes")
    assert done.status_code == 302
    writes = grant_writes(sim)
    assert [w["method"] for w in writes] == ["POST", "DELETE"]
    assert okta_grants(sim, app_id) >= {READ}
    assert MANAGE not in okta_grants(sim, app_id)
    rows = list(
        AuditEvent.objects.filter(app_okta_id=app_id, action__in=("grant", "revoke"))
        .order_by("seq")
        .values_list("action", "scope_id", "outcome", "actor_login")
    )
    finals = [r[:3] for r in rows if r[2] == "success"]
    assert finals == [("grant", READ, "success"), ("revoke", MANAGE, "success")]
    assert {r[3] for r in rows} == {"super.admin@example.com"}
    assert not ScopeGrant.objects.filter(
        app__okta_id=app_id, scope_id=MANAGE, revoked_at__isnull=True
    ).exists()


def test_a_failed_grant_stops_the_plan_before_manage_is_revoked(admin, reducible, sim):
    sim.fault("/grants$", method="POST", status=500, times=-1)
    response = apply(admin, reducible["id"], confirm="yes")
    follow = admin.get(response["Location"]).content.decode()
    assert {w["method"] for w in grant_writes(sim)} == {"POST"}  # no DELETE
    assert MANAGE in okta_grants(sim, reducible["id"])
    assert f"Not run: revoke {MANAGE}" in follow
    assert AuditEvent.objects.filter(
        app_okta_id=reducible["id"], action="grant", outcome="failure"
    ).exists()
    assert not AuditEvent.objects.filter(
        app_okta_id=reducible["id"], action="revoke"
    ).exists()


def test_a_read_grant_that_needs_approval_opens_a_request_and_keeps_manage(
    admin, reducible, sim, settings
):
    settings.APPROVAL_MIN_RISK = "low"  # even a read needs a second Super Admin
    response = apply(admin, reducible["id"], confirm="yes")
    follow = admin.get(response["Location"]).content.decode()
    assert grant_writes(sim) == []  # neither the read grant nor the revoke
    assert MANAGE in okta_grants(sim, reducible["id"])
    (request,) = GrantRequest.objects.filter(app__okta_id=reducible["id"])
    assert (request.scope_id, request.state) == (READ, "pending")
    assert f"Waiting for approval: request #{request.pk} opened" in follow
    assert f"Not run: revoke {MANAGE}" in follow


def test_apply_steps_up_before_anything_is_written(admin, reducible, sim):
    OktaCredential.objects.update(auth_time=timezone.now() - timedelta(minutes=16))
    response = apply(admin, reducible["id"], confirm="yes")
    assert response.status_code == 302
    assert response["Location"].startswith(sim.url + "/oauth2/v1/authorize")
    assert grant_writes(sim) == []


def test_a_plan_that_changed_since_the_confirmation_is_not_applied(
    admin, reducible, sim
):
    ScopeUsage.objects.filter(scope_id=MANAGE).update(last_exercised_at=timezone.now())
    response = apply(admin, reducible["id"], confirm="yes")
    follow = admin.get(response["Location"]).content.decode()
    assert grant_writes(sim) == []
    assert "its plan changed since you confirmed it" in follow


def test_exports_list_the_steps_in_order(admin, reducible):
    response = admin.get("/usage/plans/export.csv?window=90")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    steps = [(r[3], r[4], r[5]) for r in rows[1:] if r[0] == reducible["id"]]
    assert steps == [("1", "grant", READ), ("2", "revoke", MANAGE)]
    data = admin.get("/usage/plans/export.json").json()
    (plan,) = [p for p in data["plans"] if p["app"]["okta_id"] == reducible["id"]]
    assert [s["verb"] for s in plan["steps"]] == ["grant", "revoke"]
    assert admin.get("/usage/plans/export.xml").status_code == 404


def test_the_view_stays_within_the_query_budget_at_many_apps(
    admin, db, django_assert_max_num_queries
):
    make_apps(300)
    observe(120)
    with django_assert_max_num_queries(8):
        page = admin.get("/usage/unused/?page=2")
    assert page.status_code == 200
    assert "Page 2 of" in page.content.decode()


def test_revoking_what_the_console_needs_takes_the_scope_id_typed(admin, mirrored, sim):
    observe(120)  # no evidence at all: every grant of the console's app is unused
    console = next(a.okta_id for a in OktaApp.objects.all() if own_app(a) == "console")
    confirm = admin.post("/usage/plans/apply", {"app": console, "window": "90"})
    page = confirm.content.decode()
    assert "Stops working:" in page
    steps = [
        line.split('value="')[1].split('"')[0]
        for line in page.split("\n")
        if f'name="steps-{console}"' in line
    ]
    refused = admin.post(
        "/usage/plans/apply",
        {"app": console, "window": "90", "confirm": "yes", f"steps-{console}": steps},
    )
    assert refused.status_code == 400
    assert "Nothing was revoked: type" in refused.content.decode()
    assert grant_writes(sim) == []
