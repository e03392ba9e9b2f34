"""Fixtures for the grant-state tests: the worker client against the simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grantsconsole.okta import OktaClient
from grantsconsole.okta_clients import forget_worker_clients, worker_client


@pytest.fixture
def client(sim, settings) -> Iterator[OktaClient]:
    """A fresh worker client (service app, private_key_jwt) for the reset simulator.

    The apps bucket is raised so tests that sync several times do not wait for
    rate-limit windows (pacing is the client's concern, tested there)."""
    settings.OKTA_ORG_URL = sim.url
    sim.set_rate_limit("apps", 100_000)
    forget_worker_clients()
    yield worker_client()
    forget_worker_clients()
