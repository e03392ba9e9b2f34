"""Fault and abuse drills (issue 9): fixtures, the ledger and the scoreboard.

Every drill is marked ``@pytest.mark.design("A-1", ...)`` with the ids of the
test designs in ``shared/docs/reliability-and-performance.md`` it exercises.
Drills that compare the database with the simulator, or audit rows with the
changes that happened, report to the :class:`Ledger` (fixture ``ledger``); the
scoreboard printed at the end of the run adds those numbers up. Nothing in the
scoreboard is hard-coded: run/passed counts come from the test reports, the two
must-be-zero numbers from the drills' own comparisons, and "covered elsewhere"
from the outcomes of the existing tests listed in :mod:`tests.drills.designs`.
"""

from __future__ import annotations

import pytest

from tests.drills.scoreboard import Ledger


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()


# --- real processes ------------------------------------------------------------------


@pytest.fixture(scope="session")
def process_dbs(tmp_path_factory):
    """Factory of databases shared with worker/web subprocesses (one migration)."""
    from tests.drills.procs import DatabaseFactory

    factory = DatabaseFactory(tmp_path_factory.mktemp("drill-dbs"))
    yield factory
    factory.close()


@pytest.fixture
def shared_db(process_dbs):
    """A fresh migrated database for this drill's subprocesses."""
    database = process_dbs.new()
    yield database
    database.drop()


@pytest.fixture
def redis_server(tmp_path):
    """A private redis-server for this drill (restartable)."""
    from tests.drills.procs import Redis

    server = Redis(tmp_path)
    yield server
    server.stop()
