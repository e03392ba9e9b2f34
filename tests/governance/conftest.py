"""Fixtures for the approval and expiry tests: the approval gate on (the suite
runs with it off, see tests/conftest.py), a second Super Admin, the demo org
mirrored into the database."""

from __future__ import annotations

import pytest

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
