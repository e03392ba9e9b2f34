"""Drills that still fail on the current product: the open findings of issue 9.

Not collected by `make test` (the file name has no ``test_`` prefix); run them with
``.venv/bin/pytest tests/drills/findings_pending.py``. When one passes, move it into
the matching ``test_*.py``. Open at the end of the second session:

- F-10 (load): p95 latency with 50 browsing sessions, 5 admins and a sync running
  on a 2-core machine is above the 500 ms budget (the load drill prints it). Alone on
  the machine, 60 s on SQLite: client p95 506 ms, gunicorn's server p95 341 ms;
  gunicorn's two workers use about 1.5 of the 2 cores (40-60 ms of CPU per page).
Each test states the expected behaviour from reliability-and-performance.md.
"""

from __future__ import annotations

import pytest

from tests.drills.test_load import stack  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.mark.design("C-4", "B-5")
def test_load_meets_the_latency_budget(stack, ledger):  # noqa: F811
    """F-10: C.2 / Heroku: p95 < 500 ms with 50 browsing sessions, 5 admins and
    a sync running (client-side, as the admins see it)."""
    from tests.drills.scoreboard import TALLY
    from tests.drills.test_load import (
        test_load_browsing_and_granting_with_a_sync_running as load,
    )

    load(stack, ledger)
    assert TALLY.load["p95_ms"] < 500, TALLY.load
