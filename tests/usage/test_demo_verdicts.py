"""End to end: the simulator's activity generator plays 95 days of the demo
org's token requests and writes, the usage ingestion reads them from the System
Log, and each verdict the demo promises (seed.DEMO_ACTIVITY) comes out."""

from __future__ import annotations

import pytest

from grantsconsole import okta_clients
from grantsconsole.grants.models import OktaApp, ScopeGrant
from grantsconsole.usage import ingest, selectors
from grantsconsole.usage.ingest import Skip
from grantsconsole.usage.models import SkippedEvents
from grantsconsole.usage.verdicts import Verdict
from tests.console.conftest import mirror_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def evidence(sim, settings):
    """The demo org mirrored, 95 days of its activity, all of it ingested."""
    settings.OKTA_ORG_URL = sim.url
    mirror_org(sim)
    sim.activity(events_per_app_per_day=3, simulate_days=95, seed=7)
    okta_clients.forget_worker_clients()
    client = okta_clients.usage_client()
    for _ in range(20):
        result = ingest.ingest(client)
        assert not result.message, result.message
        if result.caught_up:
            break
    else:
        raise AssertionError("the ingestion never caught up")
    yield
    okta_clients.forget_worker_clients()


def verdicts(label: str) -> dict[str, Verdict]:
    app = OktaApp.objects.get(label=label)
    held = ScopeGrant.objects.filter(app=app, revoked_at__isnull=True)
    return {
        u.grant.scope_id: u.judgement.verdict for u in selectors.app_usage(app, held)
    }


def test_the_demo_shows_used_unused_reducible_and_missing_grants(evidence):
    assert selectors.coverage().covers(90)
    # Issued and exercised by writes.
    assert verdicts("Nightly User Sync") == {
        "okta.users.manage": Verdict.IN_USE,
        "okta.groups.manage": Verdict.IN_USE,
    }
    # A read scope is judged by issuance alone.
    assert verdicts("SIEM Log Shipper") == {"okta.logs.read": Verdict.IN_USE}
    # A manage scope issued but never exercised: its read twin would do.
    assert verdicts("Group Sync Worker") == {"okta.groups.manage": Verdict.REDUCIBLE}
    org2org = verdicts("Org2Org Bridge")
    assert org2org["okta.users.manage"] is Verdict.REDUCIBLE
    assert org2org["okta.apiTokens.manage"] is Verdict.IN_USE
    # Held, never in a token.
    assert verdicts("Backup Exporter")["okta.apps.read"] is Verdict.UNUSED
    # Asked for, not held: denied with no_matching_scope.
    device = OktaApp.objects.get(label="Device Inventory")
    found = selectors.evidence([device.client_id])
    held = {"okta.devices.read"}
    missing = selectors.app_missing(device, held, found, selectors.coverage())
    assert [scope for scope, _ in missing] == ["okta.devices.manage"]
    # Skipped, with a reason: only the seed's grant history, made by people in
    # the Admin Console (no client.id). Every generated event was usable.
    reasons = set(SkippedEvents.objects.values_list("reason", flat=True))
    assert reasons == {Skip.NO_CLIENT_ID}
