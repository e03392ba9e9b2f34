"""The apps' stored grant counts and the scopes' holder counts stay equal to
their open grant rows, and grant rows carry their app's current label, through
every write: a grant, a revoke, a full sync with changes made in Okta, an app
removed in Okta (or restored), a relabel, and bulk writes of grant rows."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from grantsconsole.grants import services
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import OktaApp, ScopeCount, ScopeGrant
from grantsconsole.okta import OktaClient, SswsTokenSource
from grantsconsole.okta import scopes as scope_catalog
from tests.grants.helpers import app_with_grants, app_without, sim_post

pytestmark = pytest.mark.django_db

ADMIN = Actor("00u100000001aUi7J0h7", "super.admin@example.com")


def _counts(okta_id: str) -> tuple[int, int, int]:
    app = OktaApp.objects.get(okta_id=okta_id)
    return app.grant_count, app.manage_count, app.max_risk_rank


def _holders(scope_id: str) -> int:
    row = ScopeCount.objects.filter(scope_id=scope_id).first()
    return row.holders if row else 0


def _assert_exact() -> None:
    assert not OktaApp.objects.miscounted().exists()
    assert ScopeCount.objects.miscounted() == []
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
    holders = _holders("okta.users.manage")
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
    assert _holders("okta.users.manage") == holders + 1
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
    assert _holders("okta.users.manage") == holders
    _assert_exact()

    holder = app_with_grants(sim)
    other = app_without(sim, "okta.groups.read")
    sim.oob_revoke(app_id=holder["id"], scope_id=holder["grants"][0]["scopeId"])
    sim.oob_grant(app_id=other["id"], scope_id="okta.groups.read")
    held = _counts(holder["id"])[0]
    gone = holder["grants"][0]["scopeId"]
    holders = _holders(gone), _holders("okta.groups.read")
    services.run_full_sync(client=worker_client)
    assert _counts(holder["id"])[0] == held - 1
    assert (_holders(gone), _holders("okta.groups.read")) == (
        holders[0] - 1,
        holders[1] + 1,
    )
    _assert_exact()

    still = list(
        ScopeGrant.objects.filter(
            app__okta_id=holder["id"], revoked_at=None
        ).values_list("scope_id", flat=True)
    )
    before = {s: _holders(s) for s in still}
    sim_post(sim, "/__sim__/oob/app", action="delete", app_id=holder["id"])
    services.run_full_sync(client=worker_client)
    assert _counts(holder["id"]) == (0, 0, 0)
    assert {s: _holders(s) for s in still} == {s: n - 1 for s, n in before.items()}
    _assert_exact()


def test_bulk_writes_of_grant_rows_recount_their_apps():
    now = timezone.now()
    app = OktaApp.objects.create(okta_id="0oa" + "1" * 17, label="bulk")
    ScopeGrant.objects.bulk_create(
        ScopeGrant(app=app, scope_id=s, first_seen_at=now, last_seen_at=now)
        for s in ("okta.apps.read", "okta.groups.manage", "okta.custom.manage")
    )
    assert _counts(app.okta_id) == (3, 2, 4)
    assert _holders("okta.groups.manage") == 1
    assert set(ScopeGrant.objects.values_list("app_label", flat=True)) == {"bulk"}
    ScopeGrant.objects.filter(app=app, scope_id="okta.groups.manage").update(
        revoked_at=now
    )
    assert _counts(app.okta_id) == (2, 1, 3)
    assert _holders("okta.groups.manage") == 0
    ScopeGrant.objects.filter(app=app, scope_id="okta.custom.manage").delete()
    assert _counts(app.okta_id) == (1, 0, 3)  # okta.apps.read is a rated read
    assert (_holders("okta.custom.manage"), _holders("okta.apps.read")) == (0, 1)
    ScopeGrant.objects.filter(app=app, scope_id="okta.groups.manage").update(
        revoked_at=None
    )
    assert _holders("okta.groups.manage") == 1
    _assert_exact()


def test_one_rows_saves_and_deletes_keep_the_scope_counts(
    django_assert_num_queries,
):
    """Row by row: a revoke, a save whose update_fields leave revoked_at out, a
    reopen, a scope change, a row built by pk, a row of a removed app, a
    delete; and a save that changes nothing a count sees reads no row."""
    now = timezone.now()
    app = OktaApp.objects.create(okta_id="0oa" + "5" * 17, label="rows")
    gone = OktaApp.objects.create(okta_id="0oa" + "6" * 17, label="gone")
    made = ScopeGrant.objects.create(
        app=app, scope_id="okta.users.read", first_seen_at=now, last_seen_at=now
    )
    grant = ScopeGrant.objects.get(pk=made.pk)
    assert _holders("okta.users.read") == 1
    grant.revoked_at = now
    grant.save()
    assert _holders("okta.users.read") == 0
    grant.revoked_at = None
    grant.save(update_fields=["last_seen_at"])  # revoked_at not written
    assert _holders("okta.users.read") == 0
    grant.save(update_fields=["revoked_at"])
    assert _holders("okta.users.read") == 1
    grant.scope_id = "okta.groups.read"
    grant.save()
    assert (_holders("okta.users.read"), _holders("okta.groups.read")) == (0, 1)
    by_pk = ScopeGrant(
        pk=grant.pk,
        app=app,
        scope_id="okta.groups.read",
        first_seen_at=now,
        last_seen_at=now,
        revoked_at=now,
    )
    by_pk.save()  # not loaded: what the row held is read
    assert _holders("okta.groups.read") == 0
    _assert_exact()

    on_gone = ScopeGrant.objects.create(
        app=gone, scope_id="okta.logs.read", first_seen_at=now, last_seen_at=now
    )
    OktaApp.objects.filter(pk=gone.pk).update(removed_at=now)
    assert _holders("okta.logs.read") == 0
    on_gone = ScopeGrant.objects.get(pk=on_gone.pk)
    on_gone.delete()  # a removed app's grant counted nothing, so takes nothing
    assert _holders("okta.logs.read") == 0
    _assert_exact()

    grant = ScopeGrant.objects.get(pk=grant.pk)
    grant.last_seen_at = timezone.now()
    # the UPDATE and the app's recount (read its rows, write its counts)
    with django_assert_num_queries(3):
        grant.save(update_fields=["last_seen_at"])
    grant.delete()
    assert _holders("okta.groups.read") == 0
    _assert_exact()


def test_relabel_removal_and_restore_keep_labels_and_scope_counts():
    now = timezone.now()
    app = OktaApp.objects.create(okta_id="0oa" + "3" * 17, label="before")
    other = OktaApp.objects.create(okta_id="0oa" + "4" * 17, label="other")
    for holder in (app, other):
        ScopeGrant.objects.create(
            app=holder, scope_id="okta.users.read", first_seen_at=now, last_seen_at=now
        )
    assert _holders("okta.users.read") == 2

    app.label = "after"
    app.save()  # snapshots' metadata copy
    OktaApp.objects.filter(pk=other.pk).update(label="renamed")  # the listing's
    assert dict(ScopeGrant.objects.values_list("app_id", "app_label")) == {
        app.pk: "after",
        other.pk: "renamed",
    }

    app.removed_at = now
    app.save(update_fields=["removed_at"])  # a removed app holds nothing
    assert _holders("okta.users.read") == 1
    OktaApp.objects.filter(pk=app.pk).update(removed_at=None)
    assert _holders("okta.users.read") == 2
    OktaApp.objects.filter(pk=other.pk).update(removed_at=now)
    assert _holders("okta.users.read") == 1
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


def test_check_counts_names_a_miscounted_scope_and_a_stale_label_and_fixes_them(
    capsys,
):
    now = timezone.now()
    app = OktaApp.objects.create(okta_id="0oa" + "5" * 17, label="current")
    ScopeGrant.objects.create(
        app=app, scope_id="okta.users.read", first_seen_at=now, last_seen_at=now
    )
    # Writes that skipped the hooks: a drifted count and a missing one.
    ScopeCount.objects.filter(scope_id="okta.users.read").update(holders=7)
    ScopeCount.objects.filter(scope_id="okta.users.read").delete()
    ScopeCount.objects.create(scope_id="okta.groups.read", holders=2)
    ScopeGrant.objects.filter(app=app).update(app_label="stale")

    with pytest.raises(CommandError, match="2 scope"):
        call_command("check_counts")
    err = capsys.readouterr().err
    assert "okta.users.read: stored 0, rows say 1" in err
    assert "okta.groups.read: stored 2, rows say 0" in err
    assert f"{app.okta_id}: grant rows carry an old app label" in err
    with pytest.raises(CommandError):
        call_command("check_counts", "--fix")
    _assert_exact()
    assert (_holders("okta.users.read"), _holders("okta.groups.read")) == (1, 0)
    assert ScopeGrant.objects.get(app=app).app_label == "current"


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
