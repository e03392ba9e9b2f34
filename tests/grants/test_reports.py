"""The audit report: sections, storage, CSV and JSON export, the command."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from grantsconsole.grants import services
from grantsconsole.grants.models import (
    AuditCheckpoint,
    AuditReport,
    OktaApp,
    ScopeGrant,
    SyncRun,
)
from grantsconsole.okta import scope_catalog
from tests.factories import ORG_ADMIN, SUPER
from tests.grants.csv_checks import assert_every_cell_quoted, formula_cells
from tests.grants.helpers import app_with_grants, app_without

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(sim, worker_client):
    """A synced org with one external grant, one external revoke and one app
    whose grants could not be read."""
    services.run_full_sync(client=worker_client)
    holder = app_with_grants(sim)
    target = app_without(sim, "okta.users.manage")
    sim.oob_grant(
        app_id=target["id"],
        scope_id="okta.users.manage",
        actor_login=SUPER.login,
    )
    sim.oob_revoke(
        app_id=holder["id"],
        scope_id=holder["grants"][0]["scopeId"],
        actor_login=ORG_ADMIN.login,
    )
    services.run_incremental_sync(client=worker_client)
    broken = OktaApp.objects.exclude(okta_id__in=[holder["id"], target["id"]]).first()
    OktaApp.objects.filter(pk=broken.pk).update(
        grants_state="unknown", grants_error="HTTP 500"
    )
    odd = OktaApp.objects.get(okta_id=target["id"])
    now = timezone.now()
    ScopeGrant.objects.create(
        app=odd,
        scope_id="okta.someFutureThing.manage",
        okta_grant_id="oagX",
        first_seen_at=now,
        last_seen_at=now,
    )
    return {"holder": holder, "target": target, "broken": broken}


def test_the_report_has_every_section(history):
    report = services.create_report(trigger="test")
    data = AuditReport.objects.get(pk=report.pk).data
    users_manage = next(
        h for h in data["critical_holders"] if h["scope_id"] == "okta.users.manage"
    )
    assert history["target"]["id"] in {a["okta_id"] for a in users_manage["apps"]}
    external = {
        (e["action"], e["app_okta_id"], e["actor_login"])
        for e in data["external_changes"]
    }
    assert (
        "external_grant",
        history["target"]["id"],
        SUPER.login,
    ) in external
    assert (
        "external_revoke",
        history["holder"]["id"],
        ORG_ADMIN.login,
    ) in external
    [unavailable] = data["grants_unavailable"]
    assert unavailable["okta_id"] == history["broken"].okta_id
    assert (unavailable["reason"], unavailable["error"]) == ("unreadable", "HTTP 500")
    assert unavailable["as_of"]  # read fine by the full sync, not since
    assert "unavailable or stale for 1 app, the oldest as of" in data["notice"]
    uncatalogued = {u["scope_id"]: u["apps"] for u in data["uncatalogued_scopes"]}
    assert uncatalogued["okta.someFutureThing.manage"] == [history["target"]["id"]]
    assert all(scope_catalog.get(s) is None for s in uncatalogued)
    assert data["totals"]["external_changes"] == len(data["external_changes"])
    assert AuditCheckpoint.objects.exists()


def test_the_period_bounds_the_changes(history):
    later = timezone.now() + timedelta(hours=1)
    report = services.create_report(start=later, end=later + timedelta(days=1))
    assert report.data["changes"] == []
    assert report.data["grants_unavailable"]  # state sections are "now"


def test_csv_and_json_exports(history):
    report = services.create_report()
    rows = list(csv.DictReader(io.StringIO(services.report_as_csv(report))))
    sections = {r["section"] for r in rows}
    assert {
        "critical_holder",
        "external_change",
        "grants_unavailable",
        "uncatalogued_scope",
    } <= sections
    assert rows[0]["section"] == "notice"
    assert json.loads(services.report_as_json(report)) == report.data


@pytest.mark.parametrize(
    "label", ['=HYPERLINK("http://evil")', 'Payroll;=HYPERLINK("http://evil")']
)
def test_csv_cells_cannot_start_formulas(history, label):
    """App labels come from Okta: no cell starts a formula, whether the file is
    split on commas or semicolons, and every cell is quoted."""
    app = OktaApp.objects.get(okta_id=history["target"]["id"])
    OktaApp.objects.filter(pk=app.pk).update(label=label)
    report = services.create_report()
    text = services.report_as_csv(report)
    assert "'=HYPERLINK" in text
    assert formula_cells(text) == []
    assert_every_cell_quoted(text)


def test_audit_report_command(history, tmp_path, capsys):
    out = tmp_path / "report.csv"
    call_command("audit_report", "--format", "csv", "--output", str(out))
    assert out.read_text().startswith('"section",')
    call_command("audit_report")
    assert "external_changes" in capsys.readouterr().out


def test_stale_grants_are_never_presented_as_current(sim, worker_client, settings):
    """Apps not read for two full-sync intervals are named with the time their
    grants are from, and the critical scopes they hold are flagged as old."""
    services.run_full_sync(client=worker_client)
    report = services.create_report()
    assert report.data["notice"] == ""
    assert report.data["grants_unavailable"] == []
    holders = [a for h in report.data["critical_holders"] for a in h["apps"]]
    assert holders
    assert all(a["current"] for a in holders)

    # The app was last read long ago, and so was its last complete full sync
    # (a run that reads it again brings it back to current).
    old = timezone.now() - timedelta(seconds=2 * settings.SYNC_FULL_EVERY + 60)
    stale = OktaApp.objects.get(okta_id=holders[0]["okta_id"])
    OktaApp.objects.filter(pk=stale.pk).update(last_synced_at=old)
    SyncRun.objects.update(started_at=old - timedelta(minutes=1))
    report = services.create_report()
    data = report.data
    assert data["grants_unavailable"] == [
        {
            "okta_id": stale.okta_id,
            "label": stale.label,
            "reason": "stale",
            "error": "",
            "as_of": old.isoformat(),
        }
    ]
    assert data["notice"].startswith("Grant data is unavailable or stale for 1 app")
    assert old.isoformat() in data["notice"]
    flagged = [
        a for h in data["critical_holders"] for a in h["apps"] if not a["current"]
    ]
    assert {a["okta_id"] for a in flagged} == {stale.okta_id}
    assert {a["as_of"] for a in flagged} == {old.isoformat()}
    rows = list(csv.DictReader(io.StringIO(services.report_as_csv(report))))
    assert rows[0]["section"] == "notice"
    assert rows[0]["detail"] == data["notice"]
    [unavailable] = [r for r in rows if r["section"] == "grants_unavailable"]
    assert (unavailable["app_okta_id"], unavailable["time"]) == (
        stale.okta_id,
        old.isoformat(),
    )
    assert any(
        r["section"] == "critical_holder"
        and r["app_okta_id"] == stale.okta_id
        and r["detail"] == f"not current: last known as of {old.isoformat()}"
        for r in rows
    )
