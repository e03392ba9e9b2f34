"""Every console page reads the database only, in at most 8 queries (session and
user included), whatever the number of apps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from grantsconsole.accounts.models import OktaCredential
from grantsconsole.grants import audit
from grantsconsole.grants.models import AuditReport
from grantsconsole.usage.models import Observation
from tests.factories import make_apps, make_sync_run

MAX_QUERIES = 8


def _pages(apps) -> list[str]:
    run = make_sync_run(apps_total=len(apps))
    report = AuditReport.objects.create(
        period_start=timezone.now(), period_end=timezone.now(), data={"summary": {}}
    )
    row = audit.record("grant", app=apps[0], scope_id="okta.users.manage")
    # A covered window: every grant without evidence is unused, every app has a plan.
    Observation.objects.create(
        observed_from=timezone.now() - timedelta(days=120),
        observed_to=timezone.now(),
    )
    last_page = (len(apps) + 49) // 50
    return [
        "/apps/",
        f"/apps/?page={last_page}",
        "/apps/?sort=-manage&manage=on&scope=okta.users.manage&changed=30",
        "/apps/?unreadable=on&type=web&status=ACTIVE&q=App",
        f"/apps/{apps[0].okta_id}/",
        f"/apps/{apps[-1].okta_id}/",
        f"/apps/{apps[0].okta_id}/?show=all&pick=1&q=users&kind=manage&risk=high",
        "/apps/?sort=-risk&risk=high",
        "/scopes/",
        "/scopes/matrix/",
        f"/scopes/matrix/?page={(len(apps) + 49) // 50}",
        "/scopes/matrix/?size=all",
        "/scopes/?sort=risk&risk=medium",
        "/scopes/okta.users.manage/",
        "/audit/",
        "/audit/?action=grant&external=on&date_from=2026-01-01",
        "/audit/?app=0oaT000001App&scope=okta.users.manage&actor=x&before=99",
        "/audit/?app=App&intents=on",
        f"/audit/?app={apps[0].label}",
        "/audit/?date_from=2026-12-07&date_to=2026-12-01",
        f"/audit/{row.seq}/",
        "/scopes/okta.users.manage/?q=App 00",
        "/sync/",
        "/sync/progress",
        f"/sync/{run.pk}/",
        "/reports/",
        "/reports/?after=0",
        "/reports/charts/grants-over-time.svg",
        "/reports/charts/top-manage-scopes.svg",
        "/reports/charts/least-privilege-by-risk.svg",
        "/reports/charts/least-privilege-trend.svg",
        f"/reports/{report.pk}/",
        "/usage/unused/",
        f"/usage/unused/?window=30&page={last_page}",
    ]


@pytest.mark.parametrize("n_apps", [10, 1000])
def test_every_page_stays_within_the_query_budget(
    admin, n_apps, django_assert_max_num_queries, settings
):
    # The budget is per page; the role re-check that comes at most every
    # ACCOUNTS_ROLE_RECHECK_SECONDS (a few queries, once per 5 min) and the
    # credential's last-used stamp (one UPDATE, once a minute) would land on
    # whichever page a slow run happens to reach then.
    settings.ACCOUNTS_ROLE_RECHECK_SECONDS = 3600
    apps = make_apps(n_apps, grants_per_app=10 if n_apps == 1000 else 3)
    for url in _pages(apps):
        OktaCredential.objects.update(last_used_at=timezone.now())
        with django_assert_max_num_queries(MAX_QUERIES, info=url):
            response = admin.get(url)
        assert response.status_code == 200, url


def test_pages_never_call_okta(admin, sim):
    apps = make_apps(20)
    before = len(sim.requests())
    for url in _pages(apps):
        assert admin.get(url).status_code == 200
    assert sim.requests()[before:] == []
