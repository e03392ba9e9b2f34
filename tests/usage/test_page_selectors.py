"""The usage reads the pages make: the scopes an app was refused, and the
evidence and coverage that ride on a page's own query."""

from datetime import UTC, datetime, timedelta

import pytest

from grantsconsole.grants.models import OktaApp
from grantsconsole.usage import selectors
from grantsconsole.usage.models import Observation, ScopeUsage
from grantsconsole.usage.verdicts import Coverage
from tests.factories import make_app

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
SEEN = Coverage(NOW - timedelta(days=400), NOW)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.mark.django_db
def test_app_missing_lists_refused_scopes_not_held_within_the_window():
    app = make_app("0oaMISSING00000000x7")
    for scope_id, at in (
        ("okta.roles.manage", ago(5)),
        ("okta.users.manage", ago(2)),  # held
        ("okta.groups.manage", ago(100)),  # out of the window
    ):
        ScopeUsage.objects.create(
            client_id=app.client_id, scope_id=scope_id, last_denied_at=at
        )
    ScopeUsage.objects.create(
        client_id="someone-else", scope_id="okta.apps.manage", last_denied_at=ago(1)
    )
    found = selectors.evidence([app.client_id])
    found |= selectors.evidence(["someone-else"])  # another app's: ignored
    held = {"okta.users.manage"}
    assert selectors.app_missing(app, held, found, SEEN) == [
        ("okta.roles.manage", ago(5))
    ]
    assert selectors.app_missing(app, held, found, SEEN, window_days=120) == [
        ("okta.groups.manage", ago(100)),
        ("okta.roles.manage", ago(5)),
    ]
    assert selectors.app_missing(app, held, found, Coverage(None, None)) == []


@pytest.mark.django_db
def test_evidence_and_coverage_ride_on_a_query_of_apps():
    used = make_app("0oaUSED0000000000x7")
    make_app("0oaQUIET000000000x7")
    ScopeUsage.objects.create(
        client_id=used.client_id,
        scope_id="okta.users.manage",
        last_issued_at=ago(1),
        last_exercised_at=ago(3),
    )
    ScopeUsage.objects.create(
        client_id=used.client_id, scope_id="okta.users.read", last_issued_at=ago(9)
    )
    rows = OktaApp.objects.annotate(
        **selectors.evidence_annotations("okta.users.manage"),
        **selectors.coverage_annotations(),
    ).order_by("okta_id")
    quiet, found = list(rows)
    assert selectors.evidence_of(found) == selectors.Evidence(ago(1), ago(3))
    assert selectors.evidence_of(quiet) == selectors.NO_EVIDENCE
    assert selectors.coverage_of(quiet) == Coverage(None, None)  # not read yet
    Observation.objects.create(observed_from=ago(30), observed_to=NOW)
    assert selectors.coverage_of(rows.all()[0]) == Coverage(ago(30), NOW)
