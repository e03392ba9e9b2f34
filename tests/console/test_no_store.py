"""Signed-in answers are never stored by a browser or proxy cache: pages,
htmx fragments, charts and exports carry ``Cache-Control: no-store``."""

from __future__ import annotations

import pytest

from grantsconsole.grants.services import create_report

pytestmark = pytest.mark.django_db

SIGNED_IN_URLS = [
    "/apps/",
    "/audit/",
    "/sync/",
    "/sync/progress",
    "/scopes/",
    "/reports/",
    "/reports/charts/top-manage-scopes.svg",
    "/health/console/",
    "/audit/export.csv",
    "/audit/export.json",
]


@pytest.mark.parametrize("url", SIGNED_IN_URLS)
def test_signed_in_answers_are_not_stored(admin, url):
    response = admin.get(url)
    assert response.status_code == 200, url
    assert "no-store" in response["Cache-Control"], url
    assert "max-age=0" in response["Cache-Control"], url


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_report_exports_are_not_stored(admin, fmt):
    report = create_report(trigger="test")
    response = admin.get(f"/reports/{report.pk}/export.{fmt}")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_a_sign_out_answer_is_not_stored(admin):
    response = admin.post("/accounts/logout/")
    assert "no-store" in response["Cache-Control"]
