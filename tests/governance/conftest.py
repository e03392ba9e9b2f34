"""Fixtures for the governance tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grantsconsole import okta_clients
from grantsconsole.okta import OktaClient, SswsTokenSource
from tests.console.conftest import mirror_org


@pytest.fixture
def mirrored(sim, db) -> int:
    """The demo org's apps and grants in the database, without a sync."""
    return mirror_org(sim)


@pytest.fixture
def admin_okta(sim) -> OktaClient:
    """The demo Super Admin acting through the console (the demo org's SSWS token)."""
    return OktaClient(
        sim.url, SswsTokenSource("00demoSuperAdminSSWStoken0000000000000000")
    )


@pytest.fixture
def worker(sim, settings) -> Iterator[None]:
    """The worker's client (``okta_clients.worker_client``) reaches the reset
    simulator."""
    settings.OKTA_ORG_URL = sim.url
    okta_clients.forget_worker_clients()
    yield
    okta_clients.forget_worker_clients()
