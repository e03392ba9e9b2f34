"""The stored effective-privilege rank follows the grant collection: a sync
that opens or closes a grant recomputes it from the stored roles at once, with
no Okta call, instead of leaving it stale until the next full sync."""

from __future__ import annotations

import pytest

from grantsconsole.grants import services
from grantsconsole.grants.models import ClientPrivilege, SyncRun
from grantsconsole.grants.privilege import RANK

pytestmark = pytest.mark.django_db


def _app(sim, label: str) -> dict:
    return next(a for a in sim.state()["apps"] if a["label"] == label)


def test_incremental_sync_that_closes_the_last_manage_grant_clears_the_rank(
    sim, worker_client, full_synced
):
    services.run_incremental_sync(client=worker_client)  # past the seed window
    idle = ClientPrivilege.objects.get(app__label="Group Sync Worker")
    assert (idle.rank, idle.latent) == (RANK["latent"], True)  # no role
    sim.oob_revoke(_app(sim, "Group Sync Worker")["id"], "okta.groups.manage")
    run = services.run_incremental_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    idle.refresh_from_db()
    assert (idle.rank, idle.latent) == (RANK[""], False)


def test_incremental_sync_that_opens_a_manage_grant_raises_the_rank(
    sim, worker_client, full_synced
):
    services.run_incremental_sync(client=worker_client)
    reader = ClientPrivilege.objects.get(app__label="SIEM Log Shipper")
    assert (reader.rank, reader.roles) == (RANK[""], [])  # okta.logs.read, no role
    sim.oob_grant(_app(sim, "SIEM Log Shipper")["id"], "okta.users.manage")
    services.run_incremental_sync(client=worker_client)
    reader.refresh_from_db()
    assert (reader.rank, reader.latent) == (RANK["latent"], True)
