"""The models' database side: migrations match the models (including the scope
catalog baked into ``ScopeGrant.risk_rank``), and the database's risk rank of a
grant is the catalog's risk, on both engines."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from grantsconsole.console.catalog import RISK_RANK, get_catalog
from grantsconsole.grants.models import OktaApp, ScopeGrant
from grantsconsole.okta import scopes as scope_catalog

pytestmark = pytest.mark.django_db


def test_no_migration_is_missing():
    """A changed model, or a scope catalog whose risks changed (risk_rank's SQL
    is built from it), must come with its migration."""
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit as exit_:
        pytest.fail(
            f"makemigrations --check exited {exit_.code}: {out.getvalue()}\n"
            "If ScopeGrant.risk_rank changed (a scope catalog update), Django cannot "
            "alter a generated column: write RemoveField + AddField of risk_rank "
            "instead of the AlterField makemigrations proposes."
        )


def test_risk_rank_kept_by_the_database_equals_the_catalog_risk():
    catalog = get_catalog()
    scope_ids = [
        *sorted(catalog.by_id),
        "okta.somethingNew.manage",  # uncatalogued manage: high
        "okta.somethingNew.read",  # uncatalogued read: 0
        "okta.somethingNew.MANAGE",  # not ".manage": 0, as Catalog.is_manage says
        "okta.myAccount.somethingNew.manage",  # uncatalogued, named manage: high
        "okta.somethingNew.register",  # uncatalogued, not named manage: 0
        "custom:scope",
    ]
    now = timezone.now()
    app = OktaApp.objects.create(okta_id="0oaRANK", label="rank", last_synced_at=now)
    ScopeGrant.objects.bulk_create(
        ScopeGrant(app=app, scope_id=s, first_seen_at=now, last_seen_at=now)
        for s in scope_ids
    )
    stored = dict(
        ScopeGrant.objects.filter(app=app).values_list("scope_id", "risk_rank")
    )
    expected = {s: RISK_RANK[catalog.risk(s)] for s in scope_ids}
    assert stored == expected
    # The pages, the database and the scope catalog's own entry tell one story.
    described = {s: scope_catalog.describe(s) for s in scope_ids}
    assert {
        s: RISK_RANK["" if d.risk == "low" else d.risk] for s, d in described.items()
    } == expected
    assert {s: d.kind == "manage" for s, d in described.items()} == {
        s: catalog.is_manage(s) for s in scope_ids
    }
    assert stored["okta.somethingNew.manage"] == RISK_RANK["high"]
    assert stored["okta.users.manage"] == RISK_RANK["critical"]
    # Reads exposing credentials or personal data are rated; other reads are not.
    assert stored["okta.users.read"] == RISK_RANK["high"]
    assert stored["okta.apiTokens.read"] == RISK_RANK["medium"]
    assert stored["okta.brands.read"] == 0
    assert stored["okta.somethingNew.MANAGE"] == 0
    # A self scope whose name ends in .manage is not a manage scope.
    self_manage = [
        s
        for s, i in catalog.by_id.items()
        if i.kind == "self" and s.endswith(".manage")
    ]
    assert self_manage
    assert {stored[s] for s in self_manage} == {0}
