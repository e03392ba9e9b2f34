"""The daily roll-ups, signed into the audit checkpoints.

Usage rows are not hash-chained (too many). Instead each audit checkpoint
signs a digest of the ``DailyUsage`` rows of the days that closed since the
previous checkpoint's statement: ``{"after": day, "through": day, "digest":
hex}`` covers the days after ``after`` up to ``through``. A day is closed once
the System Log has been read an hour past its end (``closed_through``), so
evidence arriving late cannot change a signed day. ``grants.audit.verify``
recomputes each digest; a roll-up edited, added or deleted since is a break
("usage roll-ups changed since checkpoint N"). Days past
``USAGE_ROLLUP_RETENTION_DAYS`` are deleted by design, so a statement reaching
back to them is no longer checked.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from grantsconsole.grants.audit import Seal
from grantsconsole.usage.models import DailyUsage, Observation

# How long after a day's end the log must have been read before the day is
# final: covers events persisted late and a poll restarted a little earlier.
SETTLE = timedelta(hours=1)


def closed_through() -> date | None:
    """The last UTC day whose roll-ups are final (None before one is)."""
    seen = Observation.objects.filter(name="usage").first()
    if seen is None or seen.observed_to is None or seen.observed_from is None:
        return None
    last = (seen.observed_to - SETTLE).date() - timedelta(days=1)
    return last if last >= seen.observed_from.date() else None


def digest_days(after: date, through: date) -> str:
    """SHA-256 over the roll-ups of the days after ``after`` up to
    ``through``, one line per row ("day|client_id|scope_id|issued|exercised|
    denied") in day, client_id, scope_id order."""
    h = hashlib.sha256()
    rows = (
        DailyUsage.objects.filter(day__gt=after, day__lte=through)
        .order_by("day", "client_id", "scope_id")
        .values_list("day", "client_id", "scope_id", "issued", "exercised", "denied")
        .iterator(chunk_size=5000)
    )
    for day, client_id, scope_id, issued, exercised, denied in rows:
        h.update(
            f"{day.isoformat()}|{client_id}|{scope_id}|{issued}|{exercised}|"
            f"{denied}\n".encode()
        )
    return h.hexdigest()


def sign(previous: dict[str, Any] | None) -> dict[str, Any] | None:
    """The statement for the days closed since ``previous`` (None: nothing new)."""
    through = closed_through()
    if through is None:
        return None
    if previous is not None:
        after = date.fromisoformat(previous["through"])
    else:
        first = DailyUsage.objects.order_by("day").values_list("day", flat=True).first()
        after = (first or through) - timedelta(days=1)
    if through <= after:
        return None
    return {
        "after": after.isoformat(),
        "through": through.isoformat(),
        "digest": digest_days(after, through),
    }


def digest(statement: dict[str, Any]) -> str | None:
    """The statement's digest recomputed now; None once its days reach past
    the roll-ups' retention (deleted by design)."""
    after = date.fromisoformat(statement["after"])
    horizon = (
        timezone.now() - timedelta(days=settings.USAGE_ROLLUP_RETENTION_DAYS)
    ).date()
    if after + timedelta(days=1) < horizon:
        return None
    return digest_days(after, date.fromisoformat(statement["through"]))


SEAL = Seal(name="usage", what="usage roll-ups", sign=sign, digest=digest)
