"""Fixtures for the governance tests: the demo org mirrored into the database,
the console's and the worker's clients, a second Super Admin, and the approval
gate on (the suite runs with it off, see tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grantsconsole import okta_clients
from grantsconsole.okta import OktaClient, SswsTokenSource
from tests.console.conftest import admin, mirrored  # noqa: F401
from tests.factories import ORG_ADMIN
from tests.grants.conftest import worker_client  # noqa: F401

CRITICAL = "okta.users.manage"


@pytest.fixture(autouse=True)
def gate(settings):
    """Grants rated critical need an approved request (the product's default)."""
    settings.APPROVAL_MIN_RISK = "critical"


@pytest.fixture
def approver(sim, signed_in_as):
    """A second Super Admin (the demo Org Admin, promoted in the simulator)."""
    sim.set_roles(ORG_ADMIN.login, ["SUPER_ADMIN"])
    return signed_in_as(ORG_ADMIN)


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
