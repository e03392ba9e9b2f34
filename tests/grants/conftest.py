"""Fixtures for the grant-state tests: the worker client against the simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grantsconsole import okta_clients
from grantsconsole.okta import OktaClient
from tests.conftest import lift_sync_rate_limits


@pytest.fixture
def worker_client(sim, settings) -> Iterator[OktaClient]:
    """A fresh worker client (service app, private_key_jwt) for the reset simulator.

    The buckets a sync spends are raised so tests that sync several times do
    not wait for rate-limit windows (tests.conftest.lift_sync_rate_limits)."""
    settings.OKTA_ORG_URL = sim.url
    lift_sync_rate_limits(sim)
    okta_clients.forget_worker_clients()
    yield okta_clients.worker_client()
    okta_clients.forget_worker_clients()


@pytest.fixture
def full_synced(sim, worker_client):
    """A database filled by a full sync of the demo org (which also seeds the
    System Log cursor); returns the SyncRun."""
    from grantsconsole.grants import services
    from grantsconsole.grants.models import SyncRun

    run = services.run_full_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    return run
