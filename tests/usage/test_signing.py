"""The daily roll-ups are signed into the audit checkpoints: a roll-up changed
after a checkpoint breaks the audit verification, an untouched one verifies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from grantsconsole.grants import audit
from grantsconsole.grants.models import AuditCheckpoint
from grantsconsole.usage import signing
from grantsconsole.usage.models import DailyUsage, Observation

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_closed_days():
    """Roll-ups of the last four days, the log read up to now: three closed."""
    now = timezone.now()
    Observation.objects.create(
        name="usage", observed_from=now - timedelta(days=4), observed_to=now
    )
    today = now.date()
    for age in range(4):
        DailyUsage.objects.create(
            client_id="0oaApp",
            scope_id="okta.users.manage",
            day=today - timedelta(days=age),
            issued=age + 1,
        )
    return today


def test_a_checkpoint_signs_the_closed_days_and_verifies(three_closed_days):
    cp = audit.checkpoint()
    statement = cp.seals["usage"]
    through = three_closed_days - timedelta(days=1)
    if (timezone.now() - signing.SETTLE).date() < three_closed_days:
        through -= timedelta(days=1)  # within an hour after midnight
    assert statement["through"] == through.isoformat()
    assert audit.verify().ok
    # Nothing new closed: the next checkpoint signs no usage statement.
    assert audit.checkpoint().seals is None
    assert audit.verify().ok


def test_a_roll_up_changed_after_a_checkpoint_breaks_verification(three_closed_days):
    cp = audit.checkpoint()
    DailyUsage.objects.filter(day=three_closed_days - timedelta(days=2)).update(
        issued=0
    )
    result = audit.verify()
    assert not result.ok
    assert result.problem.kind == "sealed"
    assert str(result.problem) == (
        f"checkpoint id {cp.id}: usage roll-ups changed since checkpoint "
        f"{cp.id} signed them"
    )


def test_a_deleted_or_added_roll_up_breaks_it_too(three_closed_days):
    audit.checkpoint()
    DailyUsage.objects.create(
        client_id="0oaInvented",
        scope_id="okta.users.manage",
        day=three_closed_days - timedelta(days=2),
        exercised=5,
    )
    assert audit.verify().problem.kind == "sealed"


def test_the_seals_are_covered_by_the_checkpoints_signature(three_closed_days):
    cp = audit.checkpoint()
    line = audit.checkpoint_line(
        cp.count, cp.head_hash, cp.created_at, cp.mac, '{"usage":{"after":"x"}}'
    )
    result = audit.verify([line])
    assert result.ok  # a line whose seals were altered no longer verifies ...
    assert result.ignored == 1  # ... so it is left out, not trusted
    assert AuditCheckpoint.objects.count() == 1
