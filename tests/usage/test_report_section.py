"""The audit report's least-privilege section: counts by risk, the apps with
the most risk to remove, the CSV rows, and the trend read from past reports."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from grantsconsole.console import selectors
from grantsconsole.grants.models import AuditReport
from grantsconsole.grants.services import reports
from grantsconsole.usage.models import Observation, ScopeUsage
from tests.factories import make_app, make_held_grant

pytestmark = pytest.mark.django_db


def observe(days: int) -> None:
    now = timezone.now()
    Observation.objects.update_or_create(
        name="usage",
        defaults={"observed_from": now - timedelta(days=days), "observed_to": now},
    )


@pytest.fixture
def org():
    app = make_app("0oaREPORT", label="Report app")
    for scope_id in ("okta.users.manage", "okta.brands.read", "okta.logs.read"):
        make_held_grant(app, scope_id)
    ScopeUsage.objects.create(
        client_id=app.client_id,
        scope_id="okta.users.manage",
        last_issued_at=timezone.now() - timedelta(days=1),
    )
    ScopeUsage.objects.create(
        client_id=app.client_id,
        scope_id="okta.logs.read",
        last_issued_at=timezone.now() - timedelta(days=1),
    )
    return app


def test_the_report_carries_the_least_privilege_section(org):
    observe(120)
    report = reports.create_report(trigger="test")
    section = report.data["least_privilege"]
    assert section["complete"] is True
    assert (section["unused"], section["reducible"], section["apps"]) == (1, 1, 1)
    assert section["by_risk"]["critical"] == {"unused": 0, "reducible": 1}
    assert section["by_risk"]["low"] == {"unused": 1, "reducible": 0}
    assert section["top_apps"] == [
        {
            "okta_id": "0oaREPORT",
            "label": "Report app",
            "risk_removed": 2,
            "steps": [
                "grant okta.users.read",
                "revoke okta.users.manage",
                "revoke okta.brands.read",
            ],
        }
    ]
    rows = list(csv.reader(io.StringIO(reports.report_as_csv(report))))
    mine = [r for r in rows if r[0] == "least_privilege"]
    assert any("critical: 0 unused, 1 reducible over 90 days" in r[11] for r in mine)
    (app_row,) = [r for r in mine if r[2] == "0oaREPORT"]
    assert app_row[11] == (
        "risk removed 2: grant okta.users.read, then revoke okta.users.manage, "
        "then revoke okta.brands.read"
    )


def test_no_verdict_in_the_report_before_coverage(org):
    observe(10)
    section = reports.create_report(trigger="test").data["least_privilege"]
    assert section["complete"] is False
    assert section["coverage_days"] == 10
    assert (section["unused"], section["reducible"], section["top_apps"]) == (
        0,
        0,
        [],
    )


def test_the_trend_is_read_from_past_reports(org):
    observe(10)
    reports.create_report(trigger="test")  # incomplete: not in the trend
    observe(120)
    first = reports.create_report(trigger="test")
    AuditReport.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - timedelta(days=1)
    )
    ScopeUsage.objects.filter(scope_id="okta.users.manage").update(
        last_exercised_at=timezone.now()
    )
    reports.create_report(trigger="test")
    trend = selectors.least_privilege_trend()
    assert [(u, r) for _, u, r in trend] == [(1, 1), (1, 0)]
    assert selectors.least_privilege_by_risk()["critical"] == {
        "unused": 0,
        "reducible": 0,
    }


def test_the_charts_and_the_report_page(org, signed_in_as):
    from tests.factories import SUPER

    observe(120)
    report = reports.create_report(trigger="test")
    client = signed_in_as(SUPER)
    by_risk = client.get("/reports/charts/least-privilege-by-risk.svg")
    assert by_risk["Content-Type"].startswith("image/svg+xml")
    assert "critical reducible: 1 grants" in by_risk.content.decode()
    trend = client.get("/reports/charts/least-privilege-trend.svg").content.decode()
    assert "reducible" in trend
    assert trend.count("<polyline") == 2
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert 'id="lp-h"' in page
    assert "revoke okta.users.manage" in page
