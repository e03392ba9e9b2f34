"""The apps' stored grant counts stay equal to their open grant rows through
every write: a grant, a revoke, a full sync with changes made in Okta, an app
removed in Okta, and bulk writes of grant rows."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from grantsconsole.grants import services
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import OktaApp, ScopeGrant
from grantsconsole.okta import OktaClient, SswsTokenSource
from grantsconsole.okta import scopes as scope_catalog
from tests.grants.helpers import app_with_grants, app_without, sim_post

pytestmark = pytest.mark.django_db

ADMIN = Actor("00u100000001aUi7J0h7", "super.admin@example.com")


def _counts(okta_id: str) -> tuple[int, int, int]:
    app = OktaApp.objects.get(okta_id=okta_id)
    return app.grant_count, app.manage_count, app.max_risk_rank


def _assert_exact() -> None:
    assert not OktaApp.objects.miscounted().exists()
    call_command("check_counts")  # raises CommandError on a mismatch


def test_grant_revoke_sync_and_removal_keep_the_counts_exact(sim, worker_client):
    services.run_full_sync(client=worker_client)
    _assert_exact()
    assert OktaApp.objects.filter(grant_count__gt=0).exists()

    admin_okta = OktaClient(
        sim.url, SswsTokenSource("00demoSuperAdminSSWStoken0000000000000000")
    )
    target = app_without(sim, "okta.users.manage")
    app = OktaApp.objects.get(okta_id=target["id"])
    count, manage, _ = _counts(target["id"])
    [granted] = services.write_scopes(
        "grant",
        client=admin_okta,
        app=app,
        scope_ids=["okta.users.manage"],
        actor=ADMIN,
    )
    assert granted.ok
    assert granted.changed
    assert _counts(target["id"]) == (count + 1, manage + 1, 4)  # critical
    _assert_exact()

    [revoked] = services.write_scopes(
        "revoke",
        client=admin_okta,
        app=app,
        scope_ids=["okta.users.manage"],
        actor=ADMIN,
    )
    assert revoked.ok
    assert revoked.changed
    assert _counts(target["id"])[:2] == (count, manage)
    _assert_exact()

    holder = app_with_grants(sim)
    other = app_without(sim, "okta.groups.read")
    sim.oob_revoke(app_id=holder["id"], scope_id=holder["grants"][0]["scopeId"])
    sim.oob_grant(app_id=other["id"], scope_id="okta.groups.read")
    held = _counts(holder["id"])[0]
    services.run_full_sync(client=worker_client)
    assert _counts(holder["id"])[0] == held - 1
    _assert_exact()

    sim_post(sim, "/__sim__/oob/app", action="delete", app_id=holder["id"])
    services.run_full_sync(client=worker_client)
    assert _counts(holder["id"]) == (0, 0, 0)
    _assert_exact()


def test_bulk_writes_of_grant_rows_recount_their_apps():
    now = timezone.now()
    app = OktaApp.objects.create(okta_id="0oa" + "1" * 17, label="bulk")
    ScopeGrant.objects.bulk_create(
        ScopeGrant(app=app, scope_id=s, first_seen_at=now, last_seen_at=now)
        for s in ("okta.apps.read", "okta.groups.manage", "okta.custom.manage")
    )
    assert _counts(app.okta_id) == (3, 2, 4)
    ScopeGrant.objects.filter(app=app, scope_id="okta.groups.manage").update(
        revoked_at=now
    )
    assert _counts(app.okta_id) == (2, 1, 3)
    ScopeGrant.objects.filter(app=app, scope_id="okta.custom.manage").delete()
    assert _counts(app.okta_id) == (1, 0, 3)  # okta.apps.read is a rated read
    _assert_exact()


def test_check_counts_names_a_miscounted_app_and_fix_recounts_it(capsys):
    now = timezone.now()
    app = OktaApp.objects.create(okta_id="0oa" + "2" * 17, label="drift")
    ScopeGrant.objects.create(
        app=app, scope_id="okta.users.read", first_seen_at=now, last_seen_at=now
    )
    OktaApp.objects.filter(pk=app.pk).update(grant_count=7)  # a write that skipped

    with pytest.raises(CommandError, match="1 app"):
        call_command("check_counts")
    assert app.okta_id in capsys.readouterr().err
    with pytest.raises(CommandError):
        call_command("check_counts", "--fix")
    _assert_exact()
    assert _counts(app.okta_id)[0] == 1


def test_one_apps_counts_follow_the_same_rules_as_the_sql_recount():
    """A write to one app counts its grants in Python; over every catalog
    scope and uncatalogued ones the counts are those of the SQL recount
    (``miscounted`` compares with it)."""
    now = timezone.now()
    scope_ids = [info.name for info in scope_catalog.all()] + [
        "okta.custom.manage",
        "okta.custom.read",
        "okta.custom.Manage",
    ]
    apps = []
    for n, kept in enumerate((scope_ids, scope_ids[::7], [])):
        app = OktaApp.objects.create(okta_id=f"0oa{n:017d}", label=f"app {n}")
        ScopeGrant.objects.bulk_create(
            ScopeGrant(app=app, scope_id=s, first_seen_at=now, last_seen_at=now)
            for s in kept
        )
        apps.append(app)
    one = ScopeGrant.objects.filter(app=apps[1]).order_by("scope_id").first()
    one.revoked_at = now
    one.save()
    assert _counts(apps[0].okta_id)[0] == len(scope_ids)
    assert _counts(apps[1].okta_id)[0] == len(scope_ids[::7]) - 1
    assert _counts(apps[2].okta_id) == (0, 0, 0)
    assert 0 < _counts(apps[0].okta_id)[1] < len(scope_ids)
    _assert_exact()
